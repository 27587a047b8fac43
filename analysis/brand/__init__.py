"""Brand analytics: what a brand manager asks of a trained run beyond its confusion matrix.

    python -m analysis index --run R [--collection-run R2]   # distinctiveness index
    python -m analysis drift --run R                          # identity over time
    python -m model ensemble --raw R1 --nobg R2 [--learn-weight]
    python -m analysis similar --run R --look PATH [-k 5]     # nearest runway looks

Modules: `runfolder` (reading a run folder, writing `brand_analytics.json`), `distinctiveness`
(the 0–100 index and its bootstrap CIs), `similarity` (cosine kNN over Dense-512 embeddings, cached
under `runs/<run>/index/`), `drift` (per brand and year), `ensemble` (raw + nobg probability
average, written as a run folder), `figures` (Plotly builders the dashboard and report share).
Everything reads only run folders (docs/ARCHITECTURE.md); nothing here trains or loads TensorFlow.
docs/BRAND_ANALYTICS.md documents the formulas.
"""


class AnalyticsError(ValueError):
    """A user-facing problem with a run folder or an analytics request; the message says what to do."""
