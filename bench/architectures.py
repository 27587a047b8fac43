"""Which network to recommend: every architecture and the plain baseline on the demo's three splits, several seeds.

Runs `python -m model compare` on the demo the way `make run` builds it (the demo profile's image
size, epochs and batch), on the random split with and without background and on the by-collection
split, and checks the recommendation's goals from one run of the bench:

- the recommended architecture (core.config.ARCHITECTURES[0]) is at least the baseline on each split;
- it is at least the thesis network + 0.05 on each split.

Means over seeds (3, or 2 with --quick), each with its 95% Student-t interval. Needs the demo built
(`make run` or `python -m pipeline demo`). A rerun reuses the seeds already trained
(`comparisons/bench-architectures/`); delete that folder to measure again from scratch.
"""

from __future__ import annotations

import time

from bench.harness import Row, Skip

GOAL_MARGIN_OVER_THESIS = 0.05
SPLITS = (("demo", "raw"), ("demo", "nobg"), ("demo-collection", "raw"))


def run(settings, quick: bool = False) -> dict:
    from core.config import ARCHITECTURES, profile_settings
    from core.contract import DatasetFolder
    from model.baseline import ARCHITECTURE as BASELINE
    from model.compare import compare

    demo = profile_settings("demo", settings)
    for name in ("demo", "demo-collection"):
        if not DatasetFolder(demo.paths.datasets / name).exists():
            raise Skip(f"the demo dataset {name!r} is not built; run `make run` (or `python -m pipeline demo`) first")
    seeds = 2 if quick else 3
    started = time.perf_counter()
    table = compare(["demo", "demo-collection"], [*ARCHITECTURES, BASELINE], seeds, demo,
                    name="bench-architectures")
    seconds = time.perf_counter() - started
    rows = [
        {key: (value if not hasattr(value, "item") else value.item()) for key, value in row.items()}
        for row in table.to_dict(orient="records")
        if (row["dataset"], row["variant"]) in SPLITS
    ]
    recommended, thesis = ARCHITECTURES[0], ARCHITECTURES[-1]
    checks = []
    for dataset, variant in SPLITS:
        mean = {r["architecture"]: r["mean_accuracy"] for r in rows if (r["dataset"], r["variant"]) == (dataset, variant)}
        if recommended in mean:
            checks.append({"split": f"{dataset} {variant}", "recommended": mean[recommended],
                           "baseline": mean.get(BASELINE), "thesis": mean.get(thesis),
                           "beats_baseline": mean[recommended] >= mean.get(BASELINE, float("inf")),
                           "beats_thesis_by_margin": mean[recommended] >= mean.get(thesis, float("inf"))
                           + GOAL_MARGIN_OVER_THESIS})
    return {"seeds": seeds, "image_size": demo.model.image_size, "epochs": demo.model.epochs,
            "recommended": recommended, "rows": rows, "checks": checks, "seconds": round(seconds, 1)}


def rows(result: dict) -> list[Row]:
    out = []
    for check in result["checks"]:
        out.append(Row(f"{result['recommended']} vs baseline, {check['split']} (mean of {result['seeds']} seeds)",
                       check["recommended"], "acc", f"≥ baseline {check['baseline']:.3f}", check["beats_baseline"]))
        out.append(Row(f"{result['recommended']} vs thesis, {check['split']}", check["recommended"], "acc",
                       f"≥ thesis {check['thesis']:.3f} + {GOAL_MARGIN_OVER_THESIS}", check["beats_thesis_by_margin"]))
    return out


def notes(result: dict) -> list[str]:
    lines = [f"Demo profile: {result['image_size']} px, {result['epochs']} epochs, seeds "
             f"{result['seeds']}; `python -m model compare` took {result['seconds']:.0f} s in all "
             "(seeds already trained are reused)."]
    for row in result["rows"]:
        entropy = row.get("median_attention_entropy")
        maps = "" if entropy is None or entropy != entropy else (
            f"; maps: median peak {row['median_attention_max']:.3f}, normalised entropy {entropy:.2f}")
        lines.append(f"{row['dataset']} {row['variant']}, {row['architecture']}: {row['mean_accuracy']:.3f} "
                     f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}] over seeds {row['accuracies']}{maps}")
    return lines
