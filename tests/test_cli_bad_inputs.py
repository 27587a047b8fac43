"""Every command line against a table of bad inputs (tests/bad_inputs.py: runway_csv, import, predict, cli).

Each row builds one bad input in a copy of a workspace that already holds earlier outputs (a prepared
dataset, an import, a run folder), runs the command as a user would (`python -m ...` in a subprocess),
and asserts: a non-zero exit, one message line holding the row's text, no traceback, and every file
that was there before byte-identical afterwards.

The commands run in this process through their `main(argv)`, as `python -m` would call them (a
subprocess each would cost a TensorFlow import per row); an exception escaping `main` is what a user
would see as a traceback, and fails the row. The earlier outputs are built once, in subprocesses.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from tests.bad_inputs import cases, check_covered
from tests.data.conftest import make_runway, write_runway_csv

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 120

# Lines a user sees that are not the product's message: argparse's usage (its first line, then indented
# continuations) and TensorFlow's native log lines, which it prints before Python can configure logging.
NOISE = re.compile(r"^(usage: |\s+\S|WARNING: All log messages before absl::InitializeLog|[IWEF]\d{4} \d\d:\d\d)")
# A log line of the scraper (`-v` format "LEVEL: message"): each failed photo is reported on its own line.
LOG_LINE = re.compile(r"^(WARNING|INFO): ")


# --- the workspace with earlier outputs --------------------------------------------------------------
def _run(argv: list[str], workspace: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "RUNWAY_LENS_WORKSPACE": str(workspace), "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=TIMEOUT_S)


def _photo(path: Path, colour=(120, 40, 40), size=(48, 72)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _write_config(run_dir: Path, name: str) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    config = {"config_version": 1, "run": name, "variant": "raw", "class_names": ["Chanel", "Versace"],
              "image_size": 32, "resize_filter": "nearest"}
    (run_dir / "config.json").write_text(json.dumps(config))


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """A workspace holding what earlier good commands wrote: datasets/earlier, scrapes/import, runs/earlier."""
    root = tmp_path_factory.mktemp("earlier")
    workspace = root / "workspace"
    workspace.mkdir()
    csv_path, images = make_runway(root / "runway", {"Chanel": (2, 4), "Versace": (2, 4)})
    prepared = _run(["data", "prepare", "--csv", str(csv_path), "--images", str(images), "--name", "earlier",
                     "--no-progress"], workspace)
    assert prepared.returncode == 0, prepared.stderr
    for n, brand in enumerate(("Chanel", "Versace")):
        _photo(root / "folder" / brand / "fall-2019" / "look-1.jpg", colour=(30 + 90 * n, 60, 200))
    imported = _run(["scraping", "import-folder", str(root / "folder"), "--no-progress"], workspace)
    assert imported.returncode == 0, imported.stderr
    run_dir = workspace / "runs" / "earlier"
    _write_config(run_dir, "earlier")
    (run_dir / "model.keras").write_bytes(b"PK\x03\x04 an earlier model")
    return workspace


@dataclass
class Bench:
    """One row's workspace (a copy of `earlier`) and a folder for the bad inputs it builds."""

    workspace: Path
    inputs: Path

    def runway(self, brands=None, name="runway") -> tuple[Path, Path]:
        return make_runway(self.inputs / name, brands or {"Chanel": (2, 4), "Versace": (2, 4)})

    def file(self, name: str, data: bytes | str) -> Path:
        path = self.inputs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    def photo(self, name: str, **options) -> Path:
        return _photo(self.inputs / name, **options)

    def folder(self, name: str) -> Path:
        path = self.inputs / name
        path.mkdir(parents=True, exist_ok=True)
        return path


@pytest.fixture
def bench(earlier, tmp_path) -> Bench:
    workspace = tmp_path / "workspace"
    shutil.copytree(earlier, workspace, symlinks=True)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    return Bench(workspace, inputs)


def _is_log(path: Path) -> bool:
    return path.suffix == ".log" or "logs" in path.parts


def fingerprints(*folders: Path) -> dict[str, str]:
    """sha256 of every file under the folders (links followed), logs left out."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not _is_log(path.relative_to(folder)):
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def message_lines(stderr: str) -> list[str]:
    """The product's own message lines: argparse's usage, TensorFlow's native lines and per-photo log lines left out."""
    return [line for line in stderr.splitlines() if line.strip() and not NOISE.match(line) and not LOG_LINE.match(line)]


# What `python -m <module>` runs.
MAINS = {"scraping": "scraping.__main__", "data": "data.__main__", "model": "model.__main__",
         "analysis": "analysis.__main__", "dashboard.report": "dashboard.report", "pipeline": "pipeline.__main__"}
# The reports of the latest import, rewritten by design when an import runs and every photo fails.
RUN_REPORTS = ("scrape_summary.json", "failures.csv")


def run_main(argv: list[str], capsys) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of `python -m argv[0] argv[1:]`, run in this process."""
    main = importlib.import_module(MAINS[argv[0]]).main
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers = []  # as in a fresh process: the command's own logging.basicConfig decides the log format
    try:
        code = main(argv[1:])
    except SystemExit as exit_:  # argparse
        code = exit_.code if isinstance(exit_.code, int) else 1
    except BaseException as exc:  # what a user would see as a traceback
        captured = capsys.readouterr()
        raise AssertionError(f"Traceback: {type(exc).__name__}: {exc}\nstderr:\n{captured.err}") from exc
    finally:
        root.handlers, root.level = handlers, level
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_refused(bench: Bench, argv: list[str], message: str, capsys, monkeypatch) -> None:
    monkeypatch.setenv("RUNWAY_LENS_WORKSPACE", str(bench.workspace))
    before = fingerprints(bench.workspace, bench.inputs)
    code, out, err = run_main(argv, capsys)
    shown = f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
    assert "Traceback" not in err + out, shown
    assert code != 0, shown
    lines = message_lines(err)
    assert len(lines) == 1 and message in lines[0], shown
    after = fingerprints(bench.workspace, bench.inputs)
    changed = sorted(path for path, digest in before.items()
                     if after.get(path) != digest and Path(path).name not in RUN_REPORTS)
    assert not changed, f"earlier files changed or removed: {changed}\n{shown}"


# --- the rows: surface -> id -> builder of the command line ------------------------------------------
BUILDERS: dict[str, dict[str, Callable[[Bench], list[str]]]] = {"runway_csv": {}, "import": {}, "predict": {}, "cli": {}}


def row(surface: str, case_id: str):
    def register(build: Callable[[Bench], list[str]]):
        BUILDERS[surface][case_id] = build
        return build

    return register


def prepare(csv_path: Path, images: Path, *extra: str) -> list[str]:
    # --name earlier: a refused prepare must leave the dataset of that name as it was
    return ["data", "prepare", "--csv", str(csv_path), "--images", str(images), "--name", "earlier", "--no-progress",
            *extra]


def import_csv(csv_path: Path, images: Path, *extra: str) -> list[str]:
    return ["scraping", "import-csv", str(csv_path), "--images", str(images), "--no-progress", *extra]


def _header_only(bench: Bench) -> tuple[Path, Path]:
    csv_path, images = bench.runway()
    csv_path.write_text(csv_path.read_text().splitlines()[0] + "\n")
    return csv_path, images


def _rewrite(csv_path: Path, change: Callable[[dict], dict]) -> None:
    with open(csv_path, newline="") as fh:
        rows = [change(row) for row in csv.DictReader(fh)]
    with open(csv_path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _without_brand_column(bench: Bench) -> tuple[Path, Path]:
    csv_path, images = bench.runway()
    _rewrite(csv_path, lambda row: {k: v for k, v in row.items() if k != "brand"})
    return csv_path, images


def _blank_brands(bench: Bench) -> tuple[Path, Path]:
    csv_path, images = bench.runway()
    _rewrite(csv_path, lambda row: {**row, "brand": " "})
    return csv_path, images


def _binary(bench: Bench) -> tuple[Path, Path]:
    _, images = bench.runway()
    return bench.file("runway.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR binary"), images


def _empty(bench: Bench) -> tuple[Path, Path]:
    _, images = bench.runway()
    return bench.file("empty.csv", b""), images


def _photos_gone(bench: Bench) -> tuple[Path, Path]:
    csv_path, images = bench.runway()
    shutil.rmtree(images)
    images.mkdir()
    return csv_path, images


for route, command in (("prepare", prepare), ("import-csv", import_csv)):
    row("runway_csv", f"{route}:binary")(lambda b, c=command: c(*_binary(b)))
    row("runway_csv", f"{route}:empty")(lambda b, c=command: c(*_empty(b)))
    row("runway_csv", f"{route}:header-only")(lambda b, c=command: c(*_header_only(b)))
    row("runway_csv", f"{route}:no-brand-column")(lambda b, c=command: c(*_without_brand_column(b)))
    row("runway_csv", f"{route}:blank-brands")(lambda b, c=command: c(*_blank_brands(b)))
    row("runway_csv", f"{route}:csv-missing")(lambda b, c=command: c(b.inputs / "nope.csv", b.runway()[1]))
    row("runway_csv", f"{route}:csv-is-a-folder")(lambda b, c=command: c(b.folder("runway.csv"), b.runway()[1]))
    row("runway_csv", f"{route}:photos-gone")(lambda b, c=command: c(*_photos_gone(b)))
    row("runway_csv", f"{route}:images-missing")(lambda b, c=command: c(b.runway()[0], b.inputs / "nowhere"))


@row("runway_csv", "prepare:one-brand")
def _one_brand(bench):
    return prepare(*bench.runway({"Chanel": (2, 4)}))


@row("runway_csv", "prepare:unknown-brand")
def _unknown_brand(bench):
    return prepare(*bench.runway(), "--brands", "Balenciaga")


@row("runway_csv", "prepare:bad-name")
def _bad_name(bench):
    csv_path, images = bench.runway()
    return ["data", "prepare", "--csv", str(csv_path), "--images", str(images), "--name", "../escape"]


@row("runway_csv", "import-csv:unsafe-paths-only")
def _unsafe_paths(bench):
    csv_path, images = bench.runway()
    rows = [{"image_path": "../../etc/passwd", "brand": "Chanel", "image_name": "passwd"}]
    write_runway_csv(csv_path, rows)
    return import_csv(csv_path, images)



# --- import-folder -----------------------------------------------------------------------------------
def import_folder(root: Path, *extra: str) -> list[str]:
    return ["scraping", "import-folder", str(root), "--no-progress", *extra]


def _photos_folder(bench: Bench) -> Path:
    root = bench.folder("photos")
    for n, brand in enumerate(("Chanel", "Versace")):
        bench.photo(f"photos/{brand}/fall-2020/look-{n}.jpg", colour=(200, 30 * n, 90))
    return root


@row("import", "root-missing")
def _root_missing(bench):
    return import_folder(bench.inputs / "nowhere")


@row("import", "root-is-a-file")
def _root_is_a_file(bench):
    return import_folder(bench.photo("look.jpg"))


@row("import", "no-brand-folders")
def _no_brand_folders(bench):
    bench.photo("flat/look.jpg")
    return import_folder(bench.inputs / "flat")


@row("import", "hidden-folders-only")
def _hidden_folders_only(bench):
    bench.photo("photos/.thumbnails/Chanel/look.jpg")
    return import_folder(bench.inputs / "photos")


@row("import", "no-photos")
def _no_photos(bench):
    bench.file("photos/Chanel/notes.txt", "a show to remember")
    bench.file("photos/Versace/fall-2020/readme.md", "# looks")
    return import_folder(bench.inputs / "photos")


@row("import", "text-named-jpg")
def _text_named_jpg(bench):
    bench.file("photos/Chanel/look.jpg", "<html>403 Forbidden</html>")
    bench.file("photos/Versace/look.jpg", "not a photo")
    return import_folder(bench.inputs / "photos")


@row("import", "empty-files")
def _empty_files(bench):
    bench.file("photos/Chanel/look.jpg", b"")
    return import_folder(bench.inputs / "photos")


@row("import", "dangling-links")
def _dangling_links(bench):
    chanel = bench.folder("photos/Chanel")
    (chanel / "look.jpg").symlink_to(bench.inputs / "deleted.jpg")
    return import_folder(bench.inputs / "photos")


@row("import", "decompression-bomb")
def _import_bomb(bench):
    bench.file("photos/Chanel/bomb.png", _bomb_png())
    return import_folder(bench.inputs / "photos")


@row("import", "out-is-a-file")
def _out_is_a_file(bench):
    return import_folder(_photos_folder(bench), "--out", str(bench.file("out", "x")))


@row("import", "out-holds-a-foreign-csv")
def _out_holds_a_foreign_csv(bench):
    foreign = bench.file("foreign/runway.csv", "path,label\na.jpg,chanel\n").parent
    return import_folder(_photos_folder(bench), "--out", str(foreign))


# --- predict -----------------------------------------------------------------------------------------
def predict(*photos: Path | str, run: str = "earlier", extra: tuple[str, ...] = ()) -> list[str]:
    return ["model", "predict", *map(str, photos), "--run", run, *extra]


@row("predict", "damaged-model")
def _damaged_model(bench):
    run_dir = bench.workspace / "runs" / "damaged"
    _write_config(run_dir, "damaged")
    (run_dir / "model.keras").write_bytes(b"PK\x03\x04 not really a zip archive")
    return predict(bench.photo("look.jpg"), run="damaged")


@row("predict", "run-without-model")
def _run_without_model(bench):
    _write_config(bench.workspace / "runs" / "untrained", "untrained")
    return predict(bench.photo("look.jpg"), run="untrained")


@row("predict", "damaged-config")
def _damaged_config(bench):
    run_dir = bench.folder("broken-run")
    (run_dir / "config.json").write_text("{not json")
    return predict(bench.photo("look.jpg"), run=str(run_dir))


@row("predict", "unknown-run")
def _unknown_run(bench):
    return predict(bench.photo("look.jpg"), run="no-such-run")


@row("predict", "folder")
def _folder(bench):
    return predict(bench.folder("looks"))


@row("predict", "missing-photo")
def _missing_photo(bench):
    return predict(bench.inputs / "gone.jpg")


@row("predict", "text-file")
def _text_file(bench):
    return predict(bench.file("notes.txt", "hello"))


@row("predict", "empty-file")
def _empty_file(bench):
    return predict(bench.file("empty.jpg", b""))


@row("predict", "truncated-jpeg")
def _truncated_jpeg(bench):
    data = bench.photo("whole.jpg", size=(200, 300)).read_bytes()
    return predict(bench.file("cut.jpg", data[:400]))


def _bomb_png() -> bytes:
    """A PNG header declaring 40,000 × 40,000 pixels: decoding it would take gigabytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 40_000, 40_000, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + chunk(b"IEND", b"")


@row("predict", "decompression-bomb")
def _decompression_bomb(bench):
    return predict(bench.file("bomb.png", _bomb_png()))


@row("predict", "overlay-with-two-photos")
def _overlay_with_two_photos(bench):
    return predict(bench.photo("a.jpg"), bench.photo("b.jpg"), extra=("--overlay", str(bench.inputs / "o.png")))


@row("predict", "unknown-colormap")
def _unknown_colormap(bench):
    return predict(bench.photo("a.jpg"), extra=("--colormap", "rainbow"))


@row("predict", "opacity-out-of-range")
def _opacity_out_of_range(bench):
    return predict(bench.photo("a.jpg"), extra=("--opacity", "2"))


# --- the other commands ------------------------------------------------------------------------------
@row("cli", "train-unknown-architecture")
def _train_unknown_architecture(bench):
    return ["model", "train", "--variant", "raw", "--data", "earlier", "--architecture", "transformer"]


@row("cli", "train-unknown-dataset")
def _train_unknown_dataset(bench):
    return ["model", "train", "--variant", "raw", "--data", "no-such-dataset"]


@row("cli", "train-epochs-not-a-number")
def _train_epochs_not_a_number(bench):
    return ["model", "train", "--variant", "raw", "--data", "earlier", "--epochs", "ten"]


@row("cli", "evaluate-unknown-run")
def _evaluate_unknown_run(bench):
    return ["model", "evaluate", "--run", "no-such-run"]


@row("cli", "baseline-one-brand")
def _baseline_one_brand(bench):
    manifest = bench.workspace / "datasets" / "earlier" / "manifest.csv"
    lines = manifest.read_text().splitlines()
    brand = lines[0].split(",").index("brand")
    manifest.write_text("\n".join([lines[0], *(line for line in lines[1:] if line.split(",")[brand] == "Chanel")]) + "\n")
    return ["model", "baseline", "--data", "earlier"]


@row("cli", "compare-brand-without-test-photos")
def _compare_brand_without_test_photos(bench):
    manifest = bench.workspace / "datasets" / "earlier" / "manifest.csv"
    lines = manifest.read_text().splitlines()
    header = lines[0].split(",")
    brand, split = header.index("brand"), header.index("split")

    def moved(line: str) -> str:
        cells = line.split(",")
        if cells[brand] == "Versace" and cells[split] == "test":
            cells[split] = "train"
        return ",".join(cells)

    manifest.write_text("\n".join([lines[0], *map(moved, lines[1:])]) + "\n")
    return ["model", "compare", "--data", "earlier", "--seeds", "2", "--variants", "raw"]


@row("cli", "compare-zero-seeds")
def _compare_zero_seeds(bench):
    return ["model", "compare", "--data", "earlier", "--seeds", "0"]


@row("cli", "ensemble-unevaluated-run")
def _ensemble_unevaluated_run(bench):
    return ["model", "ensemble", "--raw", "earlier", "--nobg", "no-such-run"]


@row("cli", "remove-background-unknown-dataset")
def _remove_background_unknown_dataset(bench):
    return ["data", "remove-background", "--dataset", "no-such-dataset", "--no-progress"]


@row("cli", "prepare-negative-top")
def _prepare_negative_top(bench):
    csv_path, images = bench.runway()
    return prepare(csv_path, images, "--top", "0")


@row("cli", "analysis-unevaluated-run")
def _analysis_unevaluated_run(bench):
    return ["analysis", "index", "--run", "earlier"]


@row("cli", "analysis-similar-without-embeddings")
def _analysis_similar_without_embeddings(bench):
    return ["analysis", "similar", "--run", "earlier", "--look", str(bench.inputs / "gone.jpg")]


@row("cli", "report-unknown-run")
def _report_unknown_run(bench):
    return ["dashboard.report", "--run", "no-such-run", "--brand", "Chanel"]


@row("cli", "report-unevaluated-run")
def _report_unevaluated_run(bench):
    return ["dashboard.report", "--run", "earlier", "--brand", "Chanel"]


@row("cli", "crawl-implausible-year")
def _crawl_implausible_year(bench):
    return ["scraping", "crawl", "--source", "door11", "--since", "1850", "--base-url", "http://127.0.0.1:9"]


@row("cli", "crawl-unknown-source")
def _crawl_unknown_source(bench):
    return ["scraping", "crawl", "--source", "instagram"]


@row("cli", "pipeline-informativeness-out-of-range")
def _pipeline_informativeness_out_of_range(bench):
    return ["pipeline", "demo", "--background-informativeness", "1.5"]



# --- the tables ----------------------------------------------------------------------------------------
def _check(surface: str, case, bench, capsys, monkeypatch) -> None:
    assert_refused(bench, BUILDERS[surface][case.id](bench), case.message, capsys, monkeypatch)


def test_every_row_of_the_tables_is_built():
    check_covered("runway_csv", BUILDERS["runway_csv"])
    check_covered("import", BUILDERS["import"])
    check_covered("predict", BUILDERS["predict"])
    check_covered("cli", BUILDERS["cli"])


@pytest.mark.parametrize("case", cases("runway_csv"), ids=lambda case: case.id)
def test_a_bad_runway_csv_is_one_line_and_changes_nothing(bench, case, capsys, monkeypatch):
    _check("runway_csv", case, bench, capsys, monkeypatch)


@pytest.mark.parametrize("case", cases("import"), ids=lambda case: case.id)
def test_a_bad_photo_folder_is_one_line_and_changes_nothing(bench, case, capsys, monkeypatch):
    _check("import", case, bench, capsys, monkeypatch)


@pytest.mark.parametrize("case", cases("predict"), ids=lambda case: case.id)
def test_a_bad_predict_call_is_one_line_and_changes_nothing(bench, case, capsys, monkeypatch):
    _check("predict", case, bench, capsys, monkeypatch)


@pytest.mark.parametrize("case", cases("cli"), ids=lambda case: case.id)
def test_a_bad_command_line_is_one_line_and_changes_nothing(bench, case, capsys, monkeypatch):
    _check("cli", case, bench, capsys, monkeypatch)


def test_brand_folders_named_in_any_script_are_imported_with_their_names(bench, capsys, monkeypatch):
    monkeypatch.setenv("RUNWAY_LENS_WORKSPACE", str(bench.workspace))
    for n, brand in enumerate(("Comme des Garçons", "ヨウジヤマモト")):
        bench.photo(f"photos/{brand}/fall-2020/look.jpg", colour=(10, 200, 40 * n))
    code, out, err = run_main(import_folder(bench.inputs / "photos"), capsys)
    assert code == 0, err
    with open(bench.workspace / "scrapes" / "import" / "runway.csv", newline="", encoding="utf-8") as fh:
        brands = {row["brand"] for row in csv.DictReader(fh)}
    assert {"Comme des Garçons", "ヨウジヤマモト"} <= brands
