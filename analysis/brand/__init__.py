"""Brand analytics: what a brand manager asks of a trained run beyond its confusion matrix.

    python -m analysis index --run R [--collection-run R2]   # distinctiveness index
    python -m analysis drift --run R                          # identity over time
    python -m model ensemble --raw R1 --nobg R2 [--learn-weight]
    python -m analysis similar --run R --look PATH [-k 5]     # nearest runway looks

Modules: `runfolder` (a run folder as arrays, the sections of `brand_analytics.json`, through
core.rundata and the artifact contract), `distinctiveness` (the 0–100 index and its bootstrap CIs),
`similarity` (cosine kNN over Dense-512 embeddings, cached under `runs/<run>/index/`), `drift` (per
brand and year). The ensemble (raw + nobg probability average, written as a run folder) is the model
stage's `model.ensemble`. Everything reads only run folders (core.contract); nothing here trains or
loads TensorFlow. docs/BRAND_ANALYTICS.md documents the formulas.

`AnalyticsError` is the contract's: a `ContractError`, so callers catch one family.
"""

from core.contract import AnalyticsError

__all__ = ["AnalyticsError"]
