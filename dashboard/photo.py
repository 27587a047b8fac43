"""Analysing an uploaded photo, cached: decode it, remove its background, run both models.

Each step returns its result with the seconds it took when it actually ran; a rerun (moving the
opacity slider) answers from `st.cache_data` keyed by the upload's SHA-256, so the page stays fast
and the reported times stay those of the real computation.
"""

from __future__ import annotations

import hashlib
import io
import time
from dataclasses import dataclass

import numpy as np
import streamlit as st
from PIL import Image

from core.config import Settings
from core.images import ImageError, load_rgb
from dashboard import artifacts
from dashboard.artifacts import RunInfo

DISPLAY_SIDE = 640  # photos are overlaid at most this many pixels a side (the models get the full photo)
# u2netp sees a 320x320 input whatever the photo's size, so cutting a runway photo out at this size
# loses nothing the models (224 px) use and saves resizing 4-megapixel arrays (measured: p50 0.89 -> 0.70 s).
REMBG_SIDE = 1024
SHOWN_WIDTH = 320  # pixels on the page


@dataclass(frozen=True)
class Decoded:
    image: Image.Image
    original: str  # "1200×1800 CMYK JPEG", as uploaded
    seconds: float


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def describe(data: bytes) -> str:
    """Size, mode and format read from the header only (no decoding), for the caption."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return f"{image.size[0]}×{image.size[1]} {image.mode} {image.format or ''}".strip()
    except Exception:  # the decode step reports the real problem; this is only a caption
        return "unknown format"


def reason(error: ImageError) -> str:
    """The decoder's message without its "the upload: " prefix (the page names the file itself)."""
    text = str(error)
    return text.split(": ", 1)[1] if text.startswith("the upload: ") else text


def check_size(size_bytes: int, settings: Settings) -> None:
    limit = settings.upload.max_bytes
    if size_bytes > limit:
        raise ImageError(f"the upload is {size_bytes / 2**20:.1f} MB, over the {limit / 2**20:.0f} MB limit")


@st.cache_data(show_spinner=False, max_entries=4)  # a decoded 60-megapixel photo is ~180 MB
def decode(sha: str, _data: bytes, max_pixels: int, min_side: int) -> Decoded:
    """The upload as an upright 8-bit RGB photo (EXIF orientation applied); raises ImageError."""
    started = time.perf_counter()
    image = load_rgb(_data, max_pixels=max_pixels, min_side=min_side)
    return Decoded(image=image, original=describe(_data), seconds=time.perf_counter() - started)


@st.cache_data(show_spinner=False, max_entries=4)
def remove_background(sha: str, _image: Image.Image, model_name: str, fill: str, workspace: str):
    """(the photo on a plain fill, rembg's mask, seconds) with the workspace's rembg model."""
    from data.background import parse_fill
    from data.background import remove_background as rembg_remove

    session = artifacts.rembg_session(model_name, workspace)
    started = time.perf_counter()
    composited, mask = rembg_remove(display_copy(_image, side=REMBG_SIDE), session, parse_fill(fill))
    return composited, mask, time.perf_counter() - started


def load_model(run: RunInfo):
    """The run's analyser (cached per process) and the seconds this call took (≈0 once loaded)."""
    started = time.perf_counter()
    analyser = artifacts.analyser(run)
    return analyser, time.perf_counter() - started


@st.cache_data(show_spinner=False, max_entries=32)
def analyse(sha: str, which: str, run_path: str, model_stamp: tuple[int, int], _run: RunInfo, _image: Image.Image):
    """(Analysis, seconds) of one photo by one run; `which` names the input (original / no background),
    `model_stamp` is `artifacts.model_stamp(run)` (a retrained run is a new cache entry)."""
    analyser = artifacts.analyser(_run)
    started = time.perf_counter()
    result = analyser.analyse(_image)
    return result, time.perf_counter() - started


def display_copy(image: Image.Image, side: int = DISPLAY_SIDE) -> Image.Image:
    """A downsampled copy for the page (the models get the full photo)."""
    copy = image.copy()
    copy.thumbnail((side, side), Image.BILINEAR)
    return copy


def blend(image: Image.Image, attention: np.ndarray, opacity: float, colormap: str) -> Image.Image:
    from model.maps import overlay

    return overlay(image, attention, opacity=opacity, colormap=colormap)


def input_digest(result) -> str:
    """sha256 of the array the model actually saw: the original photo or its cut-out, at the model's size."""
    return hashlib.sha256(np.ascontiguousarray(result.model_input).tobytes()).hexdigest()


@st.cache_data(show_spinner=False, max_entries=32)
def gradcam(model_input_sha: str, run_path: str, model_stamp: tuple[int, int], _run: RunInfo, _result):
    """(Grad-CAM map of the predicted class, Spearman with the attention, top-10% overlap) — analysis.attention.gradcam.

    Keyed by the model's input, not the upload: with "Remove the background first" toggled, the same
    upload reaches the background-removed model as another input, and must get that input's Grad-CAM."""
    from analysis.attention.gradcam import agreement

    cam_model = artifacts.gradcam_model(_run)
    cams, _ = cam_model(_result.model_input[None].astype(np.float32))
    rho, overlap = agreement(_result.attention, cams[0])
    return cams[0], rho, overlap


def nearest_looks(run: RunInfo, embedding: np.ndarray, k: int):
    """(the k nearest test looks, distances to every look) from the run's cached look index."""
    from analysis.brand import similarity

    index = artifacts.look_index(run)
    return similarity.nearest_looks(index, embedding, k), similarity.distances_to_all(index, embedding)


def figure_mask(sha: str, image: Image.Image, settings: Settings) -> np.ndarray:
    """rembg's figure mask of the upload in [0, 1] (the background-removal step's, cached by the upload)."""
    _, mask, _ = remove_background(sha, image, settings.data.rembg_model, settings.data.background_fill,
                                   str(settings.paths.root))
    return np.asarray(mask, np.float32) / 255.0


@st.cache_data(show_spinner=False, max_entries=32)
def hidden_zone_answers(model_input_sha: str, mask_sha: str, run_path: str, model_stamp: tuple[int, int],
                        _run: RunInfo, _result, _mask: np.ndarray, _attention) -> tuple[list[dict], np.ndarray, float]:
    """(per zone: the model's answer with that zone hidden, the five hidden inputs, seconds), keyed by what
    the model saw, the figure mask and the model file."""
    from analysis.identity.what_if import answers_when_hidden, hidden_zone_inputs, photo_zones

    started = time.perf_counter()
    analyser = artifacts.analyser(_run)
    zones = photo_zones(_mask, analyser.image_size, _attention)
    hidden = hidden_zone_inputs(_result.model_input, zones, _attention)
    answers = analyser.analyse_batch([Image.fromarray(image) for image in hidden])
    rows = answers_when_hidden(_result.probabilities, [answer.probabilities for answer in answers])
    return rows, hidden, time.perf_counter() - started
