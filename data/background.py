"""`python -m data remove-background`: rembg over a prepared dataset -> nobg/ photos, masks and manifest.

One rembg session per worker process, made once by the pool's initializer and reused for every
image (rembg's `remove()` without a session would rebuild the model per call). Results are cached
under `cache/rembg/<model>/<sha256>.png` (the RGBA cut-out) and `.mask.png` (rembg's alpha), so a
rerun, another dataset holding the same photo, or a different fill colour does no model work, and a
killed run resumes where it stopped. The fill colour is applied when writing `nobg/images/`.

The default fill is white (`DataSettings.background_fill`): runway sets are mostly light, so white
reads as "no background", whereas black would merge with the many dark garments. The thesis saved
rembg's transparent PNGs and loaded them as RGB, which drops the alpha and leaves black: `--fill black`
reproduces that.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image, ImageColor

from core.assets import AssetError
from core.config import Settings, get_settings
from core.contract import MANIFEST_COLUMNS, NOBG_COLUMNS, DataError, DatasetFolder, read_manifest_table, write_manifest
from core.engine import run_tasks, threads_per_worker
from core.fileio import atomic_path, sha256_file, write_bytes_atomic, write_json_atomic
from core.images import ImageError, load_rgb
from core.logs import progress_bar
from data import rembg_assets
from data.manifest import image_reason, resolve_dataset, sort_manifest

RUN_STATE_FILE = "run.json"  # model and fill of the files in nobg/images; a change makes them stale
OFFLINE_MODEL = "u2netp"
log = logging.getLogger(__name__)


class ModelUnavailable(DataError):
    """A rembg model that is neither in the workspace nor downloadable."""


# --------------------------------------------------------------------------- sessions and the pure step


def parse_fill(value: str) -> tuple[int, int, int]:
    """`white`, `black`, `gray` or `#rrggbb` (any colour Pillow names) -> an RGB triple."""
    try:
        return ImageColor.getrgb(str(value).strip())[:3]
    except ValueError:
        raise DataError(f"unknown fill colour {value!r}; use white, black, gray or #rrggbb") from None


def _session_class(model_name: str):
    from rembg.sessions import sessions_class

    for session_class in sessions_class:
        if session_class.name() == model_name:
            return session_class
    raise DataError(f"rembg has no model named {model_name!r}")


def use_workspace_models(settings: Settings | None = None) -> Path:
    """Point rembg at the workspace's model folder; rembg reads U2NET_HOME when a session is made."""
    home = (settings or get_settings()).paths.u2net_home
    home.mkdir(parents=True, exist_ok=True)
    os.environ["U2NET_HOME"] = str(home)
    return home


def ensure_model(model_name: str, settings: Settings | None = None) -> Path:
    """The model file in the workspace, downloaded by rembg if it can; one clear error if it cannot."""
    settings = settings or get_settings()
    allowed = settings.data.rembg_models
    if model_name not in allowed:
        raise DataError(f"unknown rembg model {model_name!r}; use one of {', '.join(allowed)}")
    if model_name == OFFLINE_MODEL:
        try:
            return rembg_assets.ensure_u2netp(settings)  # the verified route, with its offline fallback
        except AssetError as exc:  # as the data stage's own error, the one its callers (and the dashboard) catch
            raise ModelUnavailable(str(exc)) from None
    use_workspace_models(settings)
    session_class = _session_class(model_name)
    import pooch

    pooch.get_logger().setLevel(logging.WARNING)  # offline, our one line below replaces pooch's chatter
    try:
        return Path(session_class.download_models())
    except Exception as exc:  # requests/pooch/HTTP errors all mean the same thing to the user
        raise ModelUnavailable(
            f"rembg model {model_name!r} could not be downloaded ({type(exc).__name__}; offline?); "
            f"u2netp works offline: --model u2netp"
        ) from None


def new_rembg_session(model_name: str | None = None, settings: Settings | None = None, threads: int = 0):
    """A rembg session on the workspace's model folder (`threads` 0: onnxruntime's default)."""
    import onnxruntime
    import rembg

    settings = settings or get_settings()
    model_name = model_name or settings.data.rembg_model
    ensure_model(model_name, settings)
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return rembg.new_session(model_name, sess_opts=options)


def remove_background(rgb: Image.Image, session, fill=(255, 255, 255)) -> tuple[Image.Image, np.ndarray]:
    """(the photo composited on `fill`, rembg's alpha mask as uint8 0..255) for an upright RGB photo."""
    import rembg

    rgb = rgb.convert("RGB")
    mask = rembg.remove(rgb, session=session, only_mask=True).convert("L")
    fill = parse_fill(fill) if isinstance(fill, str) else tuple(fill)
    composited = Image.composite(rgb, Image.new("RGB", rgb.size, fill), mask)
    return composited, np.asarray(mask, dtype=np.uint8)


# --------------------------------------------------------------------------- one image (runs in a worker)


@dataclass(frozen=True)
class Task:
    row: int
    original: str
    image_path: str
    sha256: str
    cache_cutout: str
    cache_mask: str
    out_image: str
    out_mask: str
    fill: tuple[int, int, int]

    @property
    def cached(self) -> bool:
        return Path(self.cache_cutout).is_file() and Path(self.cache_mask).is_file()


@dataclass
class TaskResult:
    row: int
    status: str  # "done" (model ran), "cached" (from the cache), "failed"
    reason: str = ""
    seconds: float = 0.0


def _save_png(image: Image.Image, target: str) -> None:
    with atomic_path(target) as tmp:
        image.save(tmp, format="PNG")


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def process_image(task: Task, session) -> TaskResult:
    """Cut one photo out (or reuse the cache) and write its nobg photo and mask; never raises."""
    started = time.perf_counter()
    try:
        cached = task.cached
        if cached:
            cutout = Image.open(task.cache_cutout).convert("RGBA")
            mask_png = Path(task.cache_mask).read_bytes()
            background = Image.new("RGBA", cutout.size, (*task.fill, 255))
            composited = Image.alpha_composite(background, cutout).convert("RGB")
        else:
            if sha256_file(task.original) != task.sha256:
                raise ImageError(f"{task.image_path}: the file changed since `prepare`; rerun `python -m data prepare`")
            rgb = load_rgb(task.original)
            composited, mask_array = remove_background(rgb, session, task.fill)
            mask = Image.fromarray(mask_array, mode="L")
            mask_png = _png_bytes(mask)
            cutout = rgb.copy()
            cutout.putalpha(mask)
            write_bytes_atomic(task.cache_mask, mask_png)  # mask first: a cut-out is only trusted beside its mask
            _save_png(cutout, task.cache_cutout)
        _save_png(composited, task.out_image)
        write_bytes_atomic(task.out_mask, mask_png)
        return TaskResult(task.row, "cached" if cached else "done", seconds=time.perf_counter() - started)
    except ImageError as exc:
        return TaskResult(task.row, "failed", image_reason(task.image_path, str(exc)))
    except OSError as exc:
        return TaskResult(task.row, "failed", f"{task.image_path}: cannot be read or written ({exc})")
    except Exception as exc:  # rembg/onnxruntime on an image it cannot handle: report, keep going
        return TaskResult(task.row, "failed", f"{task.image_path}: rembg failed ({type(exc).__name__}: {exc})")


def rembg_worker(spec: tuple[str, str, int]):
    """A worker's rembg session (model, workspace, threads), made once per worker process."""
    model_name, workspace, threads = spec
    return new_rembg_session(model_name, get_settings(workspace), threads=threads)


def cut_out(session, task: Task) -> TaskResult:
    """One task on a worker's session (the engine's `work`)."""
    return process_image(task, session)


def lost_task(task: Task, reason: str) -> TaskResult:
    return TaskResult(task.row, "failed", f"{task.image_path}: {reason}")


# --------------------------------------------------------------------------- the command


@dataclass
class BackgroundOptions:
    dataset: str | Path
    # Model, fill and workers are `Settings.data`.


@dataclass
class BackgroundResult:
    nobg_dir: Path
    manifest: pd.DataFrame
    summary: dict = field(default_factory=dict)


def _run_tasks(tasks: list[Task], model: str, settings: Settings, workers: int):
    """(results, workers used, seconds spent on the images that needed the model). The photos that need
    rembg run on the chosen engine (`core.engine`), one session per worker."""
    from_cache = [task for task in tasks if task.cached]
    need_model = [task for task in tasks if not task.cached]
    workers = max(1, min(workers, len(need_model))) if need_model else 0
    results: list[TaskResult] = []
    with progress_bar(total=len(tasks), logger=log, desc="removing backgrounds", unit="img") as bar:
        for task in from_cache:  # compositing only: no session, no worker start-up
            results.append(process_image(task, None))
            bar.update()
        started = time.perf_counter()
        if need_model:
            spec = (model, str(settings.paths.root), threads_per_worker(workers))
            results += run_tasks(need_model, make_worker=rembg_worker, spec=spec, work=cut_out, lost=lost_task,
                                 workers=workers, engine=settings.engine, on_result=lambda result: bar.update())
        return results, workers, time.perf_counter() - started


def _stale(state_path: Path, model: str, fill: tuple[int, int, int]) -> bool:
    try:
        state = json.loads(state_path.read_text())
    except (OSError, ValueError):
        return True
    return state.get("model") != model or tuple(state.get("fill", ())) != fill


def remove_backgrounds(options: BackgroundOptions, settings: Settings | None = None) -> BackgroundResult:
    settings = settings or get_settings()
    defaults = settings.data
    dataset = resolve_dataset(options.dataset, settings)
    model, fill_name, workers = defaults.rembg_model, defaults.background_fill, defaults.rembg_workers
    fill = parse_fill(fill_name)
    if workers < 1:
        raise DataError(f"--workers must be at least 1, got {workers}")
    dataset_folder = DatasetFolder(dataset)
    manifest = read_manifest_table(dataset_folder.manifest, MANIFEST_COLUMNS)
    ensure_model(model, settings)  # in this process, once: workers never race to download

    nobg_dir = dataset_folder.nobg_dir
    cache_dir = settings.paths.rembg_cache / model
    state_path = nobg_dir / RUN_STATE_FILE
    if _stale(state_path, model, fill):
        # Photos and masks from another model or fill: derived files, rebuilt from the cache below.
        for folder in ("images", "masks"):
            shutil.rmtree(nobg_dir / folder, ignore_errors=True)
    write_json_atomic(state_path, {"model": model, "fill": list(fill), "fill_name": fill_name})

    out_images, out_masks, tasks, skipped = [], [], [], 0
    for row in manifest.itertuples():
        out_image = nobg_dir / "images" / row.brand_key / f"{row.sha256}.png"
        out_mask = nobg_dir / "masks" / row.brand_key / f"{row.sha256}.png"
        out_images.append(str(out_image))
        out_masks.append(str(out_mask))
        if out_image.is_file() and out_mask.is_file():
            skipped += 1
            continue
        tasks.append(
            Task(
                row=row.Index,
                original=row.path,
                image_path=row.image_path,
                sha256=row.sha256,
                cache_cutout=str(cache_dir / f"{row.sha256}.png"),
                cache_mask=str(cache_dir / f"{row.sha256}.mask.png"),
                out_image=str(out_image),
                out_mask=str(out_mask),
                fill=fill,
            )
        )

    started = time.perf_counter()
    results, workers, model_seconds = _run_tasks(tasks, model, settings, workers)
    elapsed = time.perf_counter() - started

    failed_rows = {result.row: result.reason for result in results if result.status == "failed"}
    ok = [row not in failed_rows for row in manifest.index]
    nobg = manifest.assign(original_path=manifest["path"], path=out_images, rembg_mask_path=out_masks)
    nobg["figure_mask_path"] = nobg["figure_mask_path"].where(nobg["figure_mask_path"] != "", nobg["rembg_mask_path"])
    nobg = sort_manifest(nobg[ok])
    write_manifest(dataset_folder.nobg_manifest, nobg, NOBG_COLUMNS)

    done = [result for result in results if result.status == "done"]
    cached = sum(result.status == "cached" for result in results)
    summary = {
        "dataset": str(dataset),
        "raw_manifest_sha256": sha256_file(dataset_folder.manifest),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": model,
        "fill": fill_name,
        "fill_rgb": list(fill),
        "workers": workers,
        "images": len(nobg),
        "done": len(done),
        "cached": cached,
        "skipped": skipped,
        "failed": len(failed_rows),
        "failures": [
            {"image_path": manifest.at[row, "image_path"], "reason": reason}
            for row, reason in sorted(failed_rows.items())
        ],
        "seconds": round(elapsed, 3),
        # Wall-clock per image run through the model (pool start-up included), and one worker's own time.
        "seconds_per_image": round(model_seconds / len(done), 4) if done else None,
        "worker_seconds_per_image": round(sum(r.seconds for r in done) / len(done), 4) if done else None,
    }
    write_json_atomic(DatasetFolder(nobg_dir).summary, summary)
    return BackgroundResult(nobg_dir=nobg_dir, manifest=nobg, summary=summary)
