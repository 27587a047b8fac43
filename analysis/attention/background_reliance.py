"""Background reliance: does the model recognise the clothes, or the venue?

A trained model is evaluated on its test photos with the background changed, figure kept:

- `removed`: the background replaced by the fill colour (as `python -m data remove-background` does);
- `swapped`: the background replaced by another brand's venue. The donor photo's own figure is
  erased with its mask (dilated a little, then `cv2.inpaint`, Telea's method) to give an empty
  venue plate, and this photo's figure is composited on it. Among `swap_candidates` random photos
  of other brands, the donor whose figure this figure hides best is used, so little of the
  inpainted patch shows;
- `blurred`: the background outside the mask Gaussian-blurred (sigma a fraction of the width),
  which keeps the venue's colours and layout but not its texture.

Everything happens on the model's input (the photo squashed to S×S by the model package's own
`to_model_input`), with the figure mask area-averaged to S×S as a soft alpha: composite =
alpha · photo + (1 − alpha) · background. A large accuracy drop under a treatment means the model
leaned on what that treatment took away.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass

import cv2
import numpy as np
import pandas as pd

from analysis.attention import AttentionError
from analysis.attention.masks import load_figure_mask, to_grid
from core.config import AttentionSettings
from core.images import ImageError
from core.logs import progress_bar
from model.preprocess import load_model_input

TREATMENTS: tuple[str, ...] = ("original", "removed", "swapped", "blurred")
log = logging.getLogger(__name__)


def as_alpha(mask: np.ndarray) -> np.ndarray:
    """A (H, W) figure mask in [0, 1] as a (H, W, 1) float32 alpha."""
    alpha = np.clip(np.asarray(mask, dtype=np.float32), 0.0, 1.0)
    return alpha[..., None] if alpha.ndim == 2 else alpha


def composite(figure: np.ndarray, mask: np.ndarray, background: np.ndarray) -> np.ndarray:
    """alpha · figure + (1 − alpha) · background, as uint8; all three share the same (H, W)."""
    figure, background = np.asarray(figure), np.asarray(background)
    if figure.shape != background.shape or figure.shape[:2] != np.shape(mask)[:2]:
        raise ValueError(f"shapes differ: photo {figure.shape}, mask {np.shape(mask)}, background {background.shape}")
    alpha = as_alpha(mask)
    mixed = alpha * figure.astype(np.float32) + (1.0 - alpha) * background.astype(np.float32)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def remove_background(image: np.ndarray, mask: np.ndarray, fill: tuple[int, int, int]) -> np.ndarray:
    """The figure on a plain `fill` background."""
    return composite(image, mask, np.broadcast_to(np.asarray(fill, np.uint8), image.shape))


def blur_background(image: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """The figure on a Gaussian-blurred copy of its own photo."""
    blurred = cv2.GaussianBlur(np.ascontiguousarray(image), (0, 0), sigmaX=max(float(sigma), 1e-3))
    return composite(image, mask, blurred)


def venue_plate(image: np.ndarray, mask: np.ndarray, dilation_px: int = 7, radius: int = 5) -> np.ndarray:
    """The photo with its figure erased: the mask (any figure, plus `dilation_px` of margin) inpainted."""
    hole = (np.asarray(mask, dtype=np.float32) > 0.05).astype(np.uint8)  # rembg's soft fringe is figure too
    if dilation_px > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilation_px + 1, 2 * dilation_px + 1))
        hole = cv2.dilate(hole, kernel)
    return cv2.inpaint(np.ascontiguousarray(image), hole * 255, radius, cv2.INPAINT_TELEA)


def swap_background(image: np.ndarray, mask: np.ndarray, donor: np.ndarray, donor_mask: np.ndarray,
                    dilation_px: int = 7, radius: int = 5) -> np.ndarray:
    """This photo's figure on the donor photo's venue (the donor's own figure inpainted away)."""
    return composite(image, mask, venue_plate(donor, donor_mask, dilation_px, radius))


def hidden_fraction(figure: np.ndarray, donor_figures: np.ndarray) -> np.ndarray:
    """For each donor mask (k, h, w): the share of the donor's figure that `figure` (h, w) covers."""
    donor_figures = np.asarray(donor_figures, dtype=np.float32)
    covered = np.minimum(donor_figures, np.asarray(figure, np.float32)[None]).sum(axis=(1, 2))
    return covered / np.maximum(donor_figures.sum(axis=(1, 2)), 1e-9)


def choose_donors(brands: np.ndarray, small_masks: np.ndarray, candidates: int = 5, seed: int = 42) -> np.ndarray:
    """For every photo, the index of a photo of another brand to take the venue from (-1: none exists).

    `small_masks` (n, g, g) are the figure masks on a small grid; of `candidates` random photos of
    other brands, the one whose figure this photo's figure covers best is chosen.
    """
    brands = np.asarray(brands)
    rng = np.random.default_rng(seed)
    donors = np.full(len(brands), -1, dtype=np.int64)
    for i, brand in enumerate(brands):
        pool = np.flatnonzero(brands != brand)
        if not len(pool):
            continue
        picked = rng.choice(pool, size=min(candidates, len(pool)), replace=False)
        donors[i] = picked[int(np.argmax(hidden_fraction(small_masks[i], small_masks[picked])))]
    return donors


@dataclass(frozen=True)
class TreatmentSettings:
    """The pixel parameters of the treatments at one input size, from `AttentionSettings`."""

    fill: tuple[int, int, int]
    sigma: float
    dilation_px: int
    radius: int

    @classmethod
    def at_size(cls, size: int, fill: tuple[int, int, int], settings: AttentionSettings) -> TreatmentSettings:
        return cls(
            fill=tuple(int(c) for c in fill),
            sigma=settings.blur_sigma_fraction * size,
            dilation_px=max(1, int(round(settings.mask_dilation_fraction * size))),
            radius=settings.inpaint_radius,
        )


def treat(image: np.ndarray, mask: np.ndarray, params: TreatmentSettings,
          donor: np.ndarray | None = None, donor_mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """{treatment: model input} for one photo; `swapped` only when a donor is given."""
    treated = {
        "original": np.asarray(image, dtype=np.uint8),
        "removed": remove_background(image, mask, params.fill),
        "blurred": blur_background(image, mask, params.sigma),
    }
    if donor is not None and donor_mask is not None:
        treated["swapped"] = swap_background(image, mask, donor, donor_mask, params.dilation_px, params.radius)
    return treated


# --------------------------------------------------------------------------- evaluating a run's model

DONOR_GRID = (16, 16)  # masks compared at this size when choosing a donor venue


def _load_pair(photo: str, mask_path: str, size: int, resize_filter: str) -> tuple[np.ndarray, np.ndarray]:
    """(model input (S, S, 3) uint8, figure alpha (S, S)) of a photo and its mask."""
    return load_model_input(photo, size, resize_filter), to_grid(load_figure_mask(mask_path), (size, size))


@dataclass(frozen=True)
class ReliancePhoto:
    """One photo's task: where it and its mask are, its brand, the donor venue (or none) and, when the run
    already predicted it, that prediction (the untreated photo then needs no forward pass)."""

    path: str
    brand: str
    figure_mask: str
    donor_path: str = ""
    donor_mask: str = ""
    known: str | None = None


@dataclass
class RelianceWorker:
    model: object
    class_names: list[str]
    image_size: int
    resize_filter: str
    params: TreatmentSettings


@dataclass(frozen=True)
class RelianceSpec:
    """What a worker process loads once: the run's model (through the workspace's settings) and the treatments."""

    run_root: str
    workspace: str
    params: TreatmentSettings
    threads: int


def reliance_worker(spec: RelianceSpec) -> RelianceWorker:
    """The engine's `make_worker` in another process: the run's model, loaded once."""
    from core.config import get_settings
    from core.engine import limit_tensorflow_threads
    from model.predict import load_analyser

    limit_tensorflow_threads(spec.threads)
    analyser = load_analyser(spec.run_root, get_settings(spec.workspace))
    return RelianceWorker(analyser.model, analyser.class_names, analyser.image_size, analyser.resize_filter,
                          spec.params)


def reliance_batch(worker: RelianceWorker, batch: tuple[ReliancePhoto, ...]) -> list[dict]:
    """One record per photo of `batch`: its predictions under every treatment, or the problem that stopped it."""
    index = {name: k for k, name in enumerate(worker.class_names)}
    inputs, owners, records = [], [], []
    for photo in batch:
        record = {"path": photo.path, "brand": photo.brand, "donor_path": "", "problem": ""}
        records.append(record)
        try:
            image, mask = _load_pair(photo.path, photo.figure_mask, worker.image_size, worker.resize_filter)
            donor = donor_mask = None
            if photo.donor_path:
                donor, donor_mask = _load_pair(photo.donor_path, photo.donor_mask, worker.image_size,
                                               worker.resize_filter)
                record["donor_path"] = photo.donor_path
        except (ImageError, AttentionError) as exc:
            record["problem"] = str(exc)
            continue
        for treatment, array in treat(image, mask, worker.params, donor, donor_mask).items():
            if treatment == "original" and photo.known is not None:
                record["predicted_original"] = photo.known  # the run's own prediction: no second forward pass
                record["correct_original"] = float(photo.known == record["brand"])
                continue
            inputs.append(array)
            owners.append((record, treatment))
    if inputs:
        predicted = np.asarray(worker.model.predict_on_batch(np.stack(inputs).astype(np.float32))).argmax(axis=1)
        for (record, treatment), k in zip(owners, predicted, strict=True):
            record[f"predicted_{treatment}"] = worker.class_names[int(k)]
            record[f"correct_{treatment}"] = float(int(k) == index.get(record["brand"], -1))
    return records


def lost_batch(batch: tuple[ReliancePhoto, ...], reason: str) -> list[dict]:
    return [{"path": photo.path, "brand": photo.brand, "donor_path": "", "problem": reason} for photo in batch]


def evaluate_reliance(
    model,
    rows,
    class_names: list[str],
    image_size: int,
    resize_filter: str,
    params: TreatmentSettings,
    *,
    candidates: int = 5,
    seed: int = 42,
    batch_size: int = 16,
    done=None,
    on_chunk=None,
    engine=None,
    worker_spec: RelianceSpec | None = None,
):
    """Predictions under every treatment, one row per photo of `rows`, in the order of `rows`.

    rows: a DataFrame with `path` (the photo the run evaluated), `brand`, `figure_mask` (its mask)
    and `venue_path` (the photo with its background, which donates the venue); with a `predicted`
    column (predictions.csv's) the untreated photo is not passed through the model again. Returns a DataFrame
    with path, brand, donor_path, predicted_<treatment> and correct_<treatment> (NaN where a
    treatment was impossible), plus `problem` for photos that could not be read. `done` holds
    earlier results to keep (resuming); `on_chunk(frame)` is called after every batch. The batches run on
    `engine` (`core.engine`; in this process with `model` by default); other processes load the model
    that `worker_spec` names.
    """
    from core.config import EngineSettings
    from core.engine import planned_workers, run_tasks, runs_here, threads_per_worker

    rows = rows.reset_index(drop=True)
    small, usable = np.zeros((len(rows), *DONOR_GRID), np.float32), np.zeros(len(rows), bool)
    for i, mask_path in enumerate(rows["figure_mask"]):
        try:
            small[i], usable[i] = to_grid(load_figure_mask(mask_path), DONOR_GRID), True
        except AttentionError:
            pass
    donors = np.full(len(rows), -1, dtype=np.int64)
    pool = np.flatnonzero(usable)  # only photos with a mask can give a venue plate
    chosen = choose_donors(rows["brand"].to_numpy()[pool], small[pool], candidates, seed)
    donors[pool[chosen >= 0]] = pool[chosen[chosen >= 0]]

    if done is not None:
        done = done[done["path"].isin(set(rows["path"]))]  # earlier results for photos still asked for
    results = [] if done is None or done.empty else [done]
    finished = set() if done is None or done.empty else set(done["path"])
    known = rows["predicted"].astype(str).tolist() if "predicted" in rows.columns else None

    def task(i: int) -> ReliancePhoto:
        d = int(donors[i])
        return ReliancePhoto(str(rows.at[i, "path"]), str(rows.at[i, "brand"]), str(rows.at[i, "figure_mask"]),
                             str(rows.at[d, "venue_path"]) if d >= 0 else "",
                             str(rows.at[d, "figure_mask"]) if d >= 0 else "", known[i] if known else None)

    todo = [task(i) for i in range(len(rows)) if rows.at[i, "path"] not in finished]
    batches = [tuple(todo[start:start + batch_size]) for start in range(0, len(todo), batch_size)]
    engine = engine or EngineSettings()
    workers = planned_workers(engine, len(batches))
    if runs_here(engine, workers) or worker_spec is None:
        engine, workers = EngineSettings(), 1

        def make_worker(_):  # the model this process already holds
            return RelianceWorker(model, class_names, image_size, resize_filter, params)
    else:
        make_worker = reliance_worker
        worker_spec = dataclasses.replace(worker_spec, threads=threads_per_worker(workers))
    order = {path: k for k, path in enumerate(rows["path"])}
    bar = progress_bar(total=len(todo), logger=log, desc="background reliance", unit="img")

    def arrived(records: list[dict]) -> None:  # saved as each batch arrives, so a killed pass resumes
        results.append(pd.DataFrame.from_records(records))
        bar.update(len(records))
        if on_chunk is not None:
            on_chunk(_in_row_order(pd.concat(results, ignore_index=True), order))

    run_tasks(batches, make_worker=make_worker, spec=worker_spec, work=reliance_batch, lost=lost_batch,
              workers=workers, engine=engine, on_result=arrived)
    bar.close()
    return _in_row_order(pd.concat(results, ignore_index=True) if results else pd.DataFrame({"path": [], "brand": []}),
                         order)


def _in_row_order(frame: pd.DataFrame, order: dict[str, int]) -> pd.DataFrame:
    """The table in the order of the rows asked for, whichever order the batches came back in."""
    frame = _ordered(frame)
    return frame.iloc[np.argsort([order.get(path, len(order)) for path in frame["path"]], kind="stable")] \
        .reset_index(drop=True)


def _ordered(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["path", "brand", "donor_path", "problem"]
    for treatment in TREATMENTS:
        for prefix in ("predicted_", "correct_"):
            column = prefix + treatment
            if column not in frame.columns:
                frame[column] = np.nan
            columns.append(column)
    return frame[columns]
