"""Analyse one photo with a trained run: probabilities, attention map, embedding and a heat-map overlay.

This is the code path the CLI's `predict` and the dashboard share:

    analyser = load_analyser(run_dir)        # once (the dashboard caches it)
    result = analyser.analyse(pil_rgb)       # any decoded photo (core.images.load_rgb)
    picture = analyser.overlay(pil_rgb, result, opacity=0.5, colormap="jet")
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass

import numpy as np
from PIL import Image

from core.config import Settings
from core.contract import RunError, RunFolder, resolve_run
from model.maps import attention_stats, overlay
from model.network import attention_model, load_saved_model
from model.preprocess import to_model_input


@dataclass(frozen=True)
class Analysis:
    probabilities: dict[str, float]  # brand → probability, in the model's class order
    predicted: str
    attention: np.ndarray  # (h, w) native map, sums to 1
    embedding: np.ndarray  # (512,) Dense-512 activations
    model_input: np.ndarray  # (S, S, 3) uint8: what the network saw

    def ranked(self) -> list[tuple[str, float]]:
        return sorted(self.probabilities.items(), key=lambda item: item[1], reverse=True)

    @property
    def attention_stats(self) -> dict[str, float]:
        return {key: value[0].item() for key, value in attention_stats(self.attention[None]).items()}


class Analyser:
    """A trained run loaded once; `analyse` runs one forward pass per photo."""

    def __init__(self, run: RunFolder):
        self.run = run
        self.config = run.read_config()
        self.class_names: list[str] = list(self.config.class_names)
        self.image_size = int(self.config.image_size)
        self.resize_filter = self.config.resize_filter
        self.model = _load_model(run)
        self.companion = attention_model(self.model)

    def analyse_batch(self, images: list[Image.Image]) -> list[Analysis]:
        inputs = np.stack([to_model_input(image, self.image_size, self.resize_filter) for image in images])
        out = self.companion.predict_on_batch(inputs.astype(np.float32))
        results = []
        for i, model_input in enumerate(inputs):
            probabilities = np.asarray(out["probabilities"][i], dtype=np.float64)
            results.append(Analysis(
                probabilities={name: float(p) for name, p in zip(self.class_names, probabilities, strict=True)},
                predicted=self.class_names[int(probabilities.argmax())],
                attention=np.asarray(out["attention"][i], dtype=np.float32),
                embedding=np.asarray(out["embedding"][i], dtype=np.float32),
                model_input=model_input,
            ))
        return results

    def analyse(self, image: Image.Image) -> Analysis:
        return self.analyse_batch([image])[0]

    @staticmethod
    def overlay(image: Image.Image, analysis: Analysis, opacity: float = 0.5, colormap: str = "jet") -> Image.Image:
        """The attention heat map over the photo at the photo's own size."""
        return overlay(image, analysis.attention, opacity=opacity, colormap=colormap)


def _load_model(run: RunFolder):
    """The run's model, or a RunError naming the file when it is there but does not load.

    Keras reports a truncated or overwritten model.keras as "File not found", which sends the user looking
    for a file that is right there; the cure is to train the run again.
    """
    path = run.require(run.model, f"python -m model train --run {run.name} ...")
    try:
        return load_saved_model(path)
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise RunError(
            f"{path} is damaged and does not load ({type(exc).__name__}); "
            f"retrain the run with `python -m model train --run {run.name} --restart ...`"
        ) from None


def load_analyser(run: str | os.PathLike | RunFolder, settings: Settings | None = None) -> Analyser:
    """Load a run folder (or a run name under the workspace) for analysis."""
    return Analyser(run if isinstance(run, RunFolder) else resolve_run(run, settings))
