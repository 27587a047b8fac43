# Runway Lens: `make run` (the product) and `make test` (the suite). Everything else is a building block.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PROFILE ?= demo
PORT   ?= 8501
# The dashboard has no login: it answers this machine only unless HOST names another interface on purpose.
HOST   ?= 127.0.0.1

.PHONY: run demo test assets lint bench clean-demo

$(VENV)/.runtime-installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@touch $@

$(VENV)/.test-installed: $(VENV)/.runtime-installed requirements-test.txt requirements-cluster.txt
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-test.txt -r requirements-cluster.txt
	@touch $@

assets: $(VENV)/.runtime-installed
	$(PY) -m model.assets

## demo: provision assets, generate the demo atelier, prepare, remove backgrounds, train, evaluate and analyse both variants (identity included)
demo: $(VENV)/.runtime-installed
	$(PY) -m pipeline demo --profile $(PROFILE)

## run: the demo (cached after the first time), then the dashboard on http://$(HOST):$(PORT) (HOST=0.0.0.0 shares it);
## the identity analyses run behind the dashboard (log: workspace/logs/behind-dashboard.log)
run: $(VENV)/.runtime-installed
	@case "$(HOST)" in \
	  127.*|localhost|::1|"[::1]") ;; \
	  *) echo "warning: the dashboard listens on $(HOST):$(PORT) and has no login: anyone who can reach this machine can see it and upload photos (docs/DASHBOARD.md, 'Sharing the dashboard')" >&2 ;; \
	esac
	$(PY) -m pipeline demo --profile $(PROFILE) --before-dashboard
	$(PY) -m pipeline demo --profile $(PROFILE) --behind-dashboard </dev/null >/dev/null 2>&1 &
	$(VENV)/bin/streamlit run dashboard/app.py --server.headless true --server.address $(HOST) --server.port $(PORT) --browser.gatherUsageStats false

## test: the whole suite (provisions the model assets first: the tests check the real weights)
test: $(VENV)/.test-installed
	$(PY) -m model.assets
	$(PY) -m pytest

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

## bench: timings users wait for; writes docs/BENCHMARKS.md and bench/results.json (never part of make test)
bench: $(VENV)/.test-installed
	$(PY) -m model.assets
	$(PY) -m bench

## clean-demo: delete the default demo's photos, datasets and every run built from them (the next `make run` rebuilds them)
clean-demo:
	rm -rf workspace/demo workspace/datasets/demo workspace/datasets/demo-collection workspace/runs/demo-raw* \
		workspace/runs/demo-nobg* workspace/runs/demo-ensemble workspace/runs/demo-collection-raw*
