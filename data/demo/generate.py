"""Generate the demo runway dataset: photos, exact masks, the runway CSV and demo.json.

Plan first, then draw. The plan (which house shows which collection at which venue, which looks)
is a pure function of the parameters. Every random choice comes from a seed derived from the
parameters and the item's position, never from a shared stream, so:

- a look's pixels do not depend on how many houses or looks per house are asked for, or on the
  order or process that draws it (rerun with more looks: the old ones stay valid);
- the venue draw, the collection theme and the photo are separate streams, so changing the
  background informativeness changes only the venues, and changing the seasonal drift only the
  garment colours and pattern scale: controlled experiments on the same figures.

Folder layout under the output folder (the "images root" every CSV path is relative to):
`images/<house>/<collection>/<nnn>.jpg`, `masks/<house>/<collection>/<nnn>.figure.png` (0/255)
and `<nnn>.zones.png` (0 background, 1 head, 2 torso, 3 legs, 4 feet), `runway.csv`, `looks.csv`
(the per-look ground truth: venue, preferred or not) and `demo.json` (parameters, signature table).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from core.config import RUNWAY_CSV_COLUMNS, RUNWAY_CSV_EXTRA_COLUMNS, DemoSettings
from core.contract import DEMO_GROUND_TRUTH_FILE, DEMO_LOOKS_FILE, RUNWAY_CSV_FILE
from core.fileio import sha256_file, write_bytes_atomic, write_text_atomic
from core.images import probe_image
from core.logs import progress_bar
from core.tables import read_csv, write_csv
from data import DataError
from data.demo.draw import CUES, Look, draw_figure, sample_look, sample_theme
from data.demo.houses import HOUSES, ZONES, House
from data.demo.venues import VENUES, Venue, apply_lighting, draw_shadow, render_backdrop, sample_layout

GENERATOR_VERSION = 1
MASK_COLUMNS = ("figure_mask_path", "zones_mask_path")
CSV_COLUMNS = RUNWAY_CSV_COLUMNS + RUNWAY_CSV_EXTRA_COLUMNS + MASK_COLUMNS
log = logging.getLogger(__name__)
LOOKS_COLUMNS = ("image_path", "brand", "house_slug", "collection", "season", "year", "look", "venue", "venue_slug",
                 "venue_preferred", "signature_zone", *(f"shows_{cue}" for cue in CUES))
SEASONS = ("spring-summer", "fall-winter")
DEMO_LABEL = "DEMO DATA — generated"
MIN_SIZE, MAX_SIDE = (48, 72), 2048

# Stream tags of the seed sequences, so the streams never overlap (the last one draws the venue
# of a counterfactual venue swap, data.demo.counterfactuals).
_VENUE_STREAM, _THEME_STREAM, _LOOK_STREAM, _COUNTERFACTUAL_VENUE_STREAM = 1, 2, 3, 4


class DemoError(DataError):
    """A bad demo parameter or output folder; the message says what to do."""


@dataclass(frozen=True)
class DemoParams:
    houses: int
    per_house: int
    width: int
    height: int
    background_informativeness: float
    seasonal_drift: float
    seed: int
    signature_strength: float = 1.0
    first_year: int = 2015
    last_year: int = 2020

    @classmethod
    def from_settings(cls, demo: DemoSettings, **overrides) -> DemoParams:
        values = {name: getattr(demo, name) for name in cls.__dataclass_fields__}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def validate(self) -> DemoParams:
        if not 1 <= self.houses <= len(HOUSES):
            raise DemoError(f"--houses must be between 1 and {len(HOUSES)}, got {self.houses}")
        if self.per_house < 1:
            raise DemoError(f"--per-house must be at least 1, got {self.per_house}")
        if self.width < MIN_SIZE[0] or self.height < MIN_SIZE[1] or max(self.width, self.height) > MAX_SIDE:
            raise DemoError(f"--size {self.width}x{self.height} is out of range: at least {MIN_SIZE[0]}x{MIN_SIZE[1]}, "
                            f"at most {MAX_SIDE} pixels a side")
        if self.height <= self.width:
            raise DemoError(f"--size {self.width}x{self.height} is not portrait: runway photos are taller than wide (e.g. 192x288)")
        for name in ("background_informativeness", "seasonal_drift", "signature_strength"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise DemoError(f"--{name.replace('_', '-')} must be between 0 and 1, got {value}")
        if self.first_year > self.last_year:
            raise DemoError(f"first year {self.first_year} is after last year {self.last_year}")
        return self

    def content(self) -> dict:
        """What a photo's pixels depend on; a folder made with other content values is another dataset."""
        keys = ("width", "height", "background_informativeness", "seasonal_drift", "signature_strength", "seed",
                "first_year", "last_year")
        return {"generator_version": GENERATOR_VERSION, **{k: getattr(self, k) for k in keys}}


@dataclass(frozen=True)
class Collection:
    house_index: int
    slot: int
    season: str
    year: int
    venue: Venue
    venue_preferred: bool

    @property
    def house(self) -> House:
        return HOUSES[self.house_index]

    @property
    def collection_id(self) -> str:
        """Unique across houses, like a show slug: `ombrelune-fall-winter-2017-black-box`."""
        return f"{self.house.slug}-{self.season}-{self.year}-{self.venue.slug}"


@dataclass(frozen=True)
class LookSpec:
    collection: Collection
    look: int  # 1-based within the collection

    @property
    def stem(self) -> str:
        return f"{self.collection.house.slug}/{self.collection.collection_id}/{self.look:03d}"

    @property
    def image_path(self) -> str:
        return f"images/{self.stem}.jpg"

    @property
    def figure_mask_path(self) -> str:
        return f"masks/{self.stem}.figure.png"

    @property
    def zones_mask_path(self) -> str:
        return f"masks/{self.stem}.zones.png"


@dataclass
class Report:
    out: Path
    images: int
    generated: int
    present: int
    seconds: float
    csv_written: bool

    @property
    def images_per_second(self) -> float:
        return self.generated / self.seconds if self.seconds > 0 else float("nan")


# ---------------------------------------------------------------- plan (pure)


def season_slots(first_year: int, last_year: int) -> list[tuple[str, int]]:
    """All (season, year) shows; the first len(years) slots cover every year once, seasons alternating."""
    years = list(range(first_year, last_year + 1))
    n = len(years)
    return [(SEASONS[(k % n + k // n) % 2], years[k % n]) for k in range(2 * n)]


def _rng(*entropy: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(list(entropy)))


def choose_venue(house: House, informativeness: float, rng: np.random.Generator) -> Venue:
    """With probability p one of the house's preferred venues (uniformly), else any venue (uniformly)."""
    preferred = rng.uniform() < informativeness
    pool = [v for v in VENUES if v.slug in house.preferred_venues] if preferred else list(VENUES)
    return pool[int(rng.integers(len(pool)))]


def plan_collection(params: DemoParams, house_index: int, slot: int) -> Collection:
    season, year = season_slots(params.first_year, params.last_year)[slot]
    house = HOUSES[house_index]
    venue = choose_venue(house, params.background_informativeness, _rng(params.seed, _VENUE_STREAM, house_index, slot))
    return Collection(house_index, slot, season, year, venue, venue.slug in house.preferred_venues)


def plan_looks(params: DemoParams) -> list[LookSpec]:
    """The looks of the first `houses` houses; look i of a house goes to show slot i mod #slots."""
    n_slots = 2 * (params.last_year - params.first_year + 1)
    specs = []
    for house_index in range(params.houses):
        collections = {}
        for i in range(params.per_house):
            slot = i % n_slots
            if slot not in collections:
                collections[slot] = plan_collection(params, house_index, slot)
            specs.append(LookSpec(collections[slot], i // n_slots + 1))
    return specs


# ---------------------------------------------------------------- drawing (pure)


@dataclass(frozen=True)
class Camera:
    exposure: float
    blur: float
    noise: float
    quality: int
    noise_seed: int


def _camera(rng: np.random.Generator) -> Camera:
    return Camera(exposure=rng.uniform(0.85, 1.12), blur=rng.uniform(0.35, 0.8), noise=rng.uniform(1.5, 5.0),
                  quality=int(rng.integers(72, 95)), noise_seed=int(rng.integers(2**31)))


def _look_streams(spec: LookSpec, params: DemoParams) -> list[np.random.SeedSequence]:
    c = spec.collection
    return np.random.SeedSequence([params.seed, _LOOK_STREAM, c.house_index, c.slot, spec.look]).spawn(3)


def look_for(spec: LookSpec, params: DemoParams) -> Look:
    """The figure of a look (placement, pose, cues, colours), without drawing it."""
    return dressed_look(spec, params, spec.collection.house_index, params.signature_strength)


def dressed_look(spec: LookSpec, params: DemoParams, house_index: int, signature_strength: float) -> Look:
    """The look's figure dressed by house `house_index`, showing each of its cues with probability `signature_strength`.

    The draws come from the look's own stream whatever the house, so pose, placement, skin, hair and
    pattern phase are the look's; the cues take that house's collection theme of the same show slot
    (same season and year, hence the same drift). `look_for` is this with the look's own house.
    """
    c = spec.collection
    house = HOUSES[house_index]
    theme = sample_theme(house, c.year, params.seasonal_drift, (params.first_year, params.last_year),
                         _rng(params.seed, _THEME_STREAM, house_index, c.slot))
    return sample_look(house, theme, params.width, params.height, np.random.default_rng(_look_streams(spec, params)[0]),
                       signature_strength)


def compose(spec: LookSpec, params: DemoParams, with_figure: bool = True, *, look: Look | None = None,
            backdrop_venue: Venue | None = None) -> tuple[np.ndarray, np.ndarray, Camera]:
    """The lit scene before camera effects, its zone labels, and the camera settings.

    With `with_figure=False` the same venue, shadow and light are drawn without the figure: the
    two images differ only where the zone labels are non-zero. `look` draws another figure in the
    same photo (a counterfactual: same pose, other cues); `backdrop_venue` puts another venue behind
    the figure, drawn from the same layout and audience draws, while the figure keeps the show's
    venue light, so that only background pixels change.
    """
    c = spec.collection
    look = look_for(spec, params) if look is None else look
    venue = c.venue if backdrop_venue is None else backdrop_venue
    _, backdrop_seq, camera_seq = _look_streams(spec, params)
    backdrop_rng = np.random.default_rng(backdrop_seq)
    layout = sample_layout(venue, params.width, params.height, backdrop_rng)
    backdrop = render_backdrop(venue, layout, params.width, params.height, backdrop_rng)
    draw_shadow(backdrop, look.pose.cx, look.pose.feet_y, look.pose.height)
    scene = backdrop.copy()
    zones = draw_figure(scene, look) if with_figure else np.zeros(backdrop.shape[:2], np.uint8)
    np.copyto(scene, backdrop, where=(zones == 0)[..., None])  # nothing drawn outside the labelled figure
    camera = _camera(np.random.default_rng(camera_seq))
    focus = (look.pose.cx, look.pose.feet_y - 0.55 * look.pose.height)
    lit = apply_lighting(scene, c.venue, focus, 0.6 * look.pose.height, camera.exposure)
    if venue != c.venue:  # light is per pixel: the figure lit as at the show, the new venue lit as its own
        background = apply_lighting(scene, venue, focus, 0.6 * look.pose.height, camera.exposure)
        np.copyto(lit, background, where=(zones == 0)[..., None])
    return lit, zones, camera


def develop(scene: np.ndarray, camera: Camera) -> np.ndarray:
    """Lens blur and sensor noise (JPEG compression comes at encoding)."""
    blurred = cv2.GaussianBlur(scene, (0, 0), camera.blur).astype(np.float32)
    noise = np.random.default_rng(camera.noise_seed).standard_normal(blurred.shape, dtype=np.float32) * camera.noise
    return np.clip(blurred + noise, 0, 255).astype(np.uint8)


def encode_jpeg(photo: np.ndarray, quality: int) -> bytes:
    """The photo (RGB uint8) as the JPEG file the dataset holds, at the camera's quality."""
    ok, jpg = cv2.imencode(".jpg", cv2.cvtColor(photo, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    return jpg.tobytes()


def render(spec: LookSpec, params: DemoParams) -> tuple[bytes, bytes, bytes]:
    """The encoded photo (JPEG), figure mask (PNG 0/255) and zones mask (PNG labels) of one look."""
    scene, zones, camera = compose(spec, params)
    jpg = encode_jpeg(develop(scene, camera), camera.quality)
    ok_fig, figure = cv2.imencode(".png", np.where(zones > 0, 255, 0).astype(np.uint8))
    ok_zon, zone_png = cv2.imencode(".png", zones)
    if not (ok_fig and ok_zon):
        raise RuntimeError(f"OpenCV could not encode the masks of {spec.stem}")
    return jpg, figure.tobytes(), zone_png.tobytes()


# ---------------------------------------------------------------- I/O


def _files(spec: LookSpec, out: Path) -> tuple[Path, Path, Path]:
    return out / spec.image_path, out / spec.figure_mask_path, out / spec.zones_mask_path


def _write_look(job: tuple[LookSpec, DemoParams, Path]) -> str:
    spec, params, out = job
    image, figure, zones = _files(spec, out)
    jpg, figure_png, zones_png = render(spec, params)
    # masks first: the photo's presence is what marks a look as done
    write_bytes_atomic(figure, figure_png)
    write_bytes_atomic(zones, zones_png)
    write_bytes_atomic(image, jpg)
    return spec.stem


def _is_done(spec: LookSpec, out: Path) -> bool:
    return all(path.is_file() for path in _files(spec, out))


def csv_row(spec: LookSpec, out: Path) -> dict:
    """One runway CSV row, with size, format and mode read back from the saved photo."""
    c = spec.collection
    path = out / spec.image_path
    info = probe_image(path)
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat(timespec="seconds")
    collection_url = f"demo://{c.house.slug}/{c.collection_id}"
    return {
        "collection_url": collection_url,
        "image_url": f"{collection_url}/{spec.look:03d}.jpg",
        "image_alt": f"{DEMO_LABEL}: {c.house.name}, {c.season} {c.year}, look {spec.look}, {c.venue.name} ({c.venue.city})",
        "image_name": f"{spec.look:03d}.jpg",
        "image_path": spec.image_path,
        "image_size": info.size_bytes,
        "image_width": info.width,
        "image_height": info.height,
        "image_format": info.format,
        "image_mode": info.mode,
        "brand": c.house.name,
        "season": c.season,
        "year": c.year,
        "city": c.venue.city,
        "show_type": "ready-to-wear",
        "sha256": sha256_file(path),
        "scraped_at": stamp,
        "figure_mask_path": spec.figure_mask_path,
        "zones_mask_path": spec.zones_mask_path,
    }


def looks_row(spec: LookSpec, params: DemoParams) -> dict:
    """The look's ground truth beyond the runway CSV: venue, and which house cues it shows."""
    c = spec.collection
    cues = look_for(spec, params).cues
    return {"image_path": spec.image_path, "brand": c.house.name, "house_slug": c.house.slug, "collection": c.collection_id,
            "season": c.season, "year": c.year, "look": spec.look, "venue": c.venue.name, "venue_slug": c.venue.slug,
            "venue_preferred": c.venue_preferred, "signature_zone": c.house.signature_zone,
            **{f"shows_{cue}": shown for cue, shown in zip(CUES, cues, strict=True)}}


def demo_manifest(params: DemoParams, specs: list[LookSpec], created_at: str) -> dict:
    """demo.json: what was generated, how, and the ground-truth tables."""
    return {
        "demo": True,
        "label": f"{DEMO_LABEL} by Runway Lens; fictional houses and venues, not real runway photos",
        "generator_version": GENERATOR_VERSION,
        "created_at": created_at,
        "parameters": asdict(params),
        "content": params.content(),
        "images_root": "this folder: image_path, figure_mask_path and zones_mask_path in runway.csv are relative to it",
        "venue_rule": ("each collection is shown at one venue: with probability background_informativeness one of its "
                       "house's preferred venues (uniformly), otherwise any of all venues (uniformly)"),
        "signature_rule": ("each look shows each of its house's four cues (fabric: palette, pattern and legwear; cut: "
                           "silhouette and sleeves; headwear; shoes) with probability signature_strength, independently; "
                           "a cue not shown is replaced by a basic one shared by all houses (looks.csv says which)"),
        "drift_rule": ("garment palette hue/value and pattern scale move linearly from first_year to last_year, by "
                       "seasonal_drift times the house's drift; accessories and silhouettes do not drift"),
        "zones": {name: index for index, name in enumerate(ZONES)},
        "counts": {house.name: sum(1 for s in specs if s.collection.house is house) for house in HOUSES[: params.houses]},
        "houses": [house.signature_row() for house in HOUSES[: params.houses]],
        "venues": [venue.table_row() for venue in VENUES],
    }


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _check_folder(out: Path, params: DemoParams, overwrite: bool) -> dict | None:
    """The existing demo.json if `out` may be resumed; clears it on `overwrite`; else a clear refusal."""
    existing = _read_json(out / DEMO_GROUND_TRUTH_FILE)
    ours = [out / "images", out / "masks", out / RUNWAY_CSV_FILE, out / DEMO_LOOKS_FILE, out / DEMO_GROUND_TRUTH_FILE]
    if existing is not None and existing.get("content") == params.content():
        return existing
    if not any(p.exists() for p in ours):
        return None
    if not overwrite:
        if existing is None:
            raise DemoError(f"{out} already holds images or a runway CSV but no readable demo.json, so it is not a demo "
                            "folder this generator can resume; choose another --out, or pass --overwrite to replace it")
        old = existing.get("content", {})
        changed = ", ".join(f"{k} {old.get(k)!r} -> {v!r}" for k, v in params.content().items() if old.get(k) != v)
        raise DemoError(f"{out} holds a demo generated with other parameters ({changed}); choose another --out, "
                        "or pass --overwrite to replace it")
    for path in ours:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    return None


def _csv_up_to_date(path: Path, specs: list[LookSpec]) -> bool:
    try:
        frame = read_csv(path, usecols=["image_path"], dtype=str)
        header = read_csv(path, nrows=0).columns
    except (OSError, ValueError):
        return False
    return tuple(header) == CSV_COLUMNS and frame["image_path"].tolist() == [s.image_path for s in specs]


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_text_atomic(path, text)
    return True


def generate(params: DemoParams, out: Path, workers: int = 1, overwrite: bool = False) -> Report:
    """Generate (or resume) the demo dataset in `out`; a rerun with the same parameters writes nothing."""
    params.validate()
    if workers < 1:
        raise DemoError(f"--workers must be at least 1, got {workers}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise DemoError(f"{out} is a file; --out must be a folder")
    existing = _check_folder(out, params, overwrite)
    specs = plan_looks(params)
    created_at = (existing or {}).get("created_at") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    manifest = json.dumps(demo_manifest(params, specs, created_at), indent=2, ensure_ascii=False) + "\n"
    _write_if_changed(out / DEMO_GROUND_TRUTH_FILE, manifest)

    todo = [spec for spec in specs if not _is_done(spec, out)]
    start = time.perf_counter()
    jobs = [(spec, params, out) for spec in todo]
    bar = progress_bar(total=len(jobs), logger=log, desc="demo photos", unit="img", disable=not jobs)
    if workers == 1 or len(jobs) < 2 * workers:
        for job in jobs:
            _write_look(job)
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(_write_look, jobs, chunksize=8):
                bar.update()
    bar.close()
    seconds = time.perf_counter() - start

    csv_path = out / RUNWAY_CSV_FILE
    csv_written = False
    if todo or not _csv_up_to_date(csv_path, specs):
        rows = [csv_row(spec, out) for spec in progress_bar(specs, logger=log, desc="runway CSV", unit="img")]
        csv_written = _write_if_changed(csv_path, write_csv(pd.DataFrame(rows, columns=list(CSV_COLUMNS))))
    looks = write_csv(pd.DataFrame([looks_row(spec, params) for spec in specs], columns=list(LOOKS_COLUMNS)))
    _write_if_changed(out / DEMO_LOOKS_FILE, looks)
    return Report(out=out, images=len(specs), generated=len(todo), present=len(specs) - len(todo), seconds=seconds,
                  csv_written=csv_written)


