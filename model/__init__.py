"""The model stage: the thesis's VGG16 + spatial attention brand classifier.

    from model import build_model, attention_model, load_analyser

Exports are resolved lazily, so
`python -m model.assets` do not pay for importing TensorFlow up front.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "build_model": "model.network",
    "attention_model": "model.network",
    "tail_model": "model.network",
    "feature_model": "model.network",
    "load_saved_model": "model.network",
    "parameter_counts": "model.network",
    "load_analyser": "model.predict",
    "Analyser": "model.predict",
    "train": "model.training",
    "TrainRequest": "model.training",
    "evaluate": "model.evaluation",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")
