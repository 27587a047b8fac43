"""What every part of the identity analysis reads: the run's test photos, their zones, and the model as a scorer.

`load_context` reads a run folder through the contract (config.json, predictions.csv) with each
prediction's masks (`analysis.attention.analyse.mask_table`: the demo's exact masks, or rembg's
from the dataset's nobg/ manifest), refuses what the analysis cannot answer (one brand, a brand
without test photos), and samples the photos to score. The model is loaded only when a part
needs it, as a `ModelScorer`: batches of model inputs (0..255 RGB at the run's size, made with
`model.preprocess`, as evaluation makes them) to class probabilities. Tests hand in any object with
the same `probabilities`, `image_size`, `resize_filter`, `class_names` and `stamp`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd

from analysis.attention.analyse import mask_table, model_stamp, stratified_sample
from analysis.identity import IdentityError
from analysis.identity.passes import scorer_input, zones_or_none
from core.config import Settings
from core.contract import RunConfig, RunFolder, resolve_run

log = logging.getLogger(__name__)
LOG_FLOOR = 1e-30  # a probability the float32 softmax rounded to 0 still has a finite log
MAX_KEPT_GRID_CELLS = 64 * 64  # zone grids up to this size are kept in memory between methods


class Scorer(Protocol):
    image_size: int
    resize_filter: str
    class_names: list[str]
    stamp: str

    def probabilities(self, inputs: np.ndarray) -> np.ndarray: ...


class ModelScorer:
    """A run's saved model: (n, S, S, 3) uint8 inputs → (n, C) probabilities, in batches."""

    def __init__(self, run: RunFolder, config: RunConfig, batch_size: int = 32):
        from model.network import load_saved_model

        self.model = load_saved_model(run.require(run.model, f"python -m model train --run {run.name} ..."))
        self.image_size, self.resize_filter = int(config.image_size), config.resize_filter
        self.class_names = list(config.class_names)
        self.batch_size = max(1, int(batch_size))
        self.stamp = model_stamp(run)

    def probabilities(self, inputs: np.ndarray) -> np.ndarray:
        inputs = np.asarray(inputs, dtype=np.float32)
        out = [np.asarray(self.model.predict_on_batch(inputs[i:i + self.batch_size]), dtype=np.float64)
               for i in range(0, len(inputs), self.batch_size)]
        return np.concatenate(out) if out else np.zeros((0, len(self.class_names)))


def log_probabilities(probabilities: np.ndarray) -> np.ndarray:
    return np.log(np.clip(np.asarray(probabilities, dtype=np.float64), LOG_FLOOR, None))


def evidence(logp: np.ndarray, target: int, pushed: int = -1) -> np.ndarray:
    """The target's logit against the mean logit of the classes the perturbation did not push: log p(target)
    minus the mean log p of the other classes, leaving out `pushed` (-1: none), from log-probabilities (..., C).

    Reliance is measured as a drop in this evidence, not in log p: a confident model's log p sits at 0
    whatever one zone holds (p = 0.9999 and p = 0.99 are both "0.00"), so a drop in log p hides what a
    zone carries when the other zones already carry enough. The reference is a mean of logits because
    softmax drops a constant from every logit. A swap puts another house's zone on the photo and so
    pushes that house's logit up by construction; leaving that house out of the reference measures what
    the photo lost, as the truth's plain "basic" version (which pushes no house) does. A probability the
    float32 softmax rounded to 0 counts as `LOG_FLOOR`.
    """
    logp = np.asarray(logp, dtype=np.float64)
    keep = [c for c in range(logp.shape[-1]) if c not in (target, pushed)]
    return logp[..., target] - (logp[..., keep].mean(axis=-1) if keep else 0.0)  # one class: its log p alone


def check_brands(predictions: pd.DataFrame, class_names: list[str], run_name: str) -> None:
    """Refuse a run whose question has no answer: one brand, or a brand without test photos."""
    if len(class_names) < 2:
        raise IdentityError(f"run {run_name!r} has one brand ({', '.join(class_names)}); identity compares houses, "
                            "so train on a dataset with at least two brands")
    counts = predictions["brand"].astype(str).value_counts()
    missing = [brand for brand in class_names if counts.get(brand, 0) == 0]
    if missing:
        raise IdentityError(f"brand(s) {', '.join(missing)} of run {run_name!r} have no test photos; prepare the dataset "
                            "with more photos per brand (or fewer brands) and retrain")


def sample_rows(brands: pd.Series, max_per_house: int, max_images: int | None, seed: int) -> np.ndarray:
    """Row positions to score: at most `max_per_house` per brand (0: all), then `max_images` interleaved across brands."""
    positions = np.arange(len(brands))
    if max_per_house > 0:
        order = np.random.default_rng(seed).permutation(len(brands))
        rank = pd.Series(brands.to_numpy()[order]).groupby(brands.to_numpy()[order]).cumcount().to_numpy()
        positions = np.sort(order[rank < max_per_house])
    if max_images is not None and max_images < len(positions):
        chosen = stratified_sample(brands.iloc[positions].reset_index(drop=True), max_images, seed)
        positions = positions[chosen]
    return positions


@dataclass
class IdentityContext:
    """One run as the identity analysis sees it; `rows` are the sampled test photos (index: their predictions.csv row)."""

    run: RunFolder
    config: RunConfig
    settings: Settings
    predictions: pd.DataFrame
    rows: pd.DataFrame  # path, brand, predicted, target, image_path, figure_mask, zones_mask, mask_source
    scorer_factory: Callable[[], Scorer] | None = None  # the run's model by default
    _scorer: Scorer | None = None
    _zones: dict = field(default_factory=dict)
    memo: dict = field(default_factory=dict)  # what a method computes once per command (e.g. the mean image)

    @property
    def class_names(self) -> list[str]:
        return list(self.config.class_names)

    @property
    def scorer(self) -> Scorer:
        if self._scorer is None:
            factory = self.scorer_factory or (lambda: ModelScorer(self.run, self.config, self.settings.identity.batch_size))
            self._scorer = factory()
        return self._scorer

    def has_model(self) -> bool:
        return self.scorer_factory is not None or self._scorer is not None or self.run.model.is_file()

    def class_index(self, names) -> np.ndarray:
        """Class indices of brand names; -1 for an empty name or a brand the model does not know."""
        lookup = {name: i for i, name in enumerate(self.class_names)}
        return np.array([lookup.get(str(name), -1) for name in names], dtype=np.int64)

    def model_input(self, path: str) -> np.ndarray:
        return scorer_input(self.scorer, path)

    def zones_at(self, row: pd.Series, shape: tuple[int, int]) -> np.ndarray | None:
        """(5, h, w) zone fractions of a photo on a grid, None without a usable mask.

        Small grids (the attention map's, Grad-CAM's) are kept for the next method; an input-size
        stack is recomputed instead, so memory stays small on large test sets.
        """
        key = (str(row["path"]), tuple(shape))
        if key in self._zones:
            return self._zones[key]
        zones = zones_or_none(row["figure_mask"], row["zones_mask"], shape, self.settings.attention,
                              self.settings.identity.zone_source == "exact")
        if shape[0] * shape[1] <= MAX_KEPT_GRID_CELLS:
            self._zones[key] = zones
        return zones

    def has_zones(self, row: pd.Series) -> bool:
        return bool(str(row.get("figure_mask", "")).strip() or str(row.get("zones_mask", "")).strip())

    def background_fill(self) -> tuple[int, int, int]:
        """The colour behind background-removed photos: the dataset's recorded fill, else `DataSettings.background_fill`."""
        from data.background import RUN_STATE_FILE, parse_fill

        dataset = self.config.dataset
        state = dataset.nobg_dir / RUN_STATE_FILE if dataset is not None else None
        if state is not None and state.is_file():
            try:
                fill = json.loads(state.read_text(encoding="utf-8")).get("fill")
                if isinstance(fill, list) and len(fill) == 3:
                    return tuple(int(v) for v in fill)
            except (OSError, ValueError, TypeError):
                pass  # an unreadable state file: the configured fill is the best guess
        return parse_fill(self.settings.data.background_fill)

    def removes_background(self) -> bool:
        """Whether the model was trained on background-removed photos (a nobg run)."""
        return self.config.variant == "nobg"

    def zone_settings(self) -> str:
        """What a zone mask depends on besides the files, for cache stamps."""
        attention = self.settings.attention
        return json.dumps({"source": self.settings.identity.zone_source, "proportions": list(attention.zone_proportions),
                           "threshold": attention.inside_threshold}, sort_keys=True)


def load_context(run: str | RunFolder, settings: Settings, max_images: int | None = None,
                 scorer_factory=None) -> IdentityContext:
    """The run's sampled test photos with masks and target brand; raises `IdentityError` for runs it cannot answer."""
    if max_images is not None and max_images < 1:
        raise IdentityError(f"--max-images must be at least 1, got {max_images}")
    run = run if isinstance(run, RunFolder) else resolve_run(run, settings)
    config = run.read_config()
    predictions = run.read_predictions()
    check_brands(predictions, list(config.class_names), run.name)
    identity = settings.identity
    masks = mask_table(predictions, config)
    rows = predictions[["path", "brand", "predicted"]].astype(str).join(masks[["figure_mask", "zones_mask", "mask_source"]])
    rows["image_path"] = (predictions["image_path"].fillna("").astype(str) if "image_path" in predictions.columns
                          else "")
    rows["target"] = rows["brand"] if identity.target == "brand" else rows["predicted"]
    rows = rows[~rows["path"].duplicated()]  # a photo is scored once (paths key the caches and the tables)
    positions = sample_rows(rows["brand"], identity.max_per_house, max_images, identity.seed)
    unsampled = sorted(set(config.class_names) - set(rows["brand"].iloc[positions]))
    if unsampled:
        raise IdentityError(f"--max-images {max_images} leaves {', '.join(unsampled)} without a photo; "
                            f"ask for at least {len(config.class_names)} (one per brand)")
    return IdentityContext(run=run, config=config, settings=settings, predictions=predictions,
                           rows=rows.iloc[positions].copy(), scorer_factory=scorer_factory)
