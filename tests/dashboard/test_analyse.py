"""The Analyse page (AppTest) with good photos in every colour mode and with each kind of bad file."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.bad_inputs import cases, check_covered

pytestmark = pytest.mark.slow


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def photo(width: int = 64, height: int = 96, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    pixels[height // 4 : 3 * height // 4, width // 3 : 2 * width // 3] = (30, 30, 120)
    return Image.fromarray(pixels, "RGB")


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG claiming `width`×`height` 1-bit pixels: a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def sixteen_bit_png() -> bytes:
    ramp = (np.linspace(0, 65535, 64 * 96).reshape(96, 64)).astype(np.uint16)
    image = Image.fromarray(ramp)
    assert image.mode == "I;16"
    return encode(image, "PNG")


def rotated_jpeg() -> bytes:
    """A 64×96 JPEG whose EXIF says: rotate 90° clockwise to view (orientation 6)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(photo(), "JPEG", exif=exif.tobytes())


GOOD = {
    "grayscale.jpg": lambda: encode(photo().convert("L"), "JPEG"),
    "cmyk.jpg": lambda: encode(photo().convert("CMYK"), "JPEG"),
    "rgba.png": lambda: encode(photo().convert("RGBA"), "PNG"),
    "sixteen-bit.png": sixteen_bit_png,
    "photo.webp": lambda: encode(photo(), "WEBP"),
}
# Each upload in tests/bad_inputs.py's "upload" table, built by its id (a file name)
BAD = {
    "truncated.jpg": lambda: encode(photo(), "JPEG")[:400],
    "corrupt.png": lambda: encode(photo(), "PNG")[:60] + b"\x00" * 200,
    "not-an-image.jpg": lambda: b"%PDF-1.4 this is a document, renamed .jpg\n" * 20,
    "bomb.png": lambda: png_header_only(40_000, 40_000),
    "big.png": lambda: png_header_only(9_000, 9_000),
    "one-pixel.png": lambda: encode(Image.new("RGB", (1, 1)), "PNG"),
    "empty.jpg": lambda: b"",
    "page.png": lambda: b"<!doctype html><html><body>404 Not Found</body></html>\n" * 10,
    "truncated.webp": lambda: (lambda whole: whole[: len(whole) // 2])(encode(photo(), "WEBP")),
    "zero-size-gif.png": lambda: b"GIF89a\x00\x00\x00\x00\x00\x00\x00",
}


@pytest.fixture
def analyse_page(demo_workspace, use_workspace, open_page):
    use_workspace(demo_workspace)
    at = open_page("analyse.py", timeout=180)
    assert not at.exception
    at.toggle(key="analyse_remove_bg").set_value(False)  # rembg is tested once, below
    return at


def upload(at, name: str, data: bytes):
    mime = {"png": "image/png", "webp": "image/webp"}.get(name.rsplit(".", 1)[-1], "image/jpeg")
    at.file_uploader(key="analyse_upload").set_value((name, data, mime))
    return at.run()


def answers(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_page_states_its_limits(analyse_page):
    text = " ".join(c.value for c in analyse_page.caption)
    assert "25 MB" in text and "60,000,000 pixels" in text and "EXIF orientation" in text


def test_every_bad_upload_in_the_table_is_built():
    check_covered("upload", BAD)


@pytest.mark.parametrize("case", cases("upload"), ids=lambda case: case.id)
def test_bad_files_get_one_message_and_the_app_stays_up(analyse_page, case):
    name, expected = case.id, case.message
    at = upload(analyse_page, name, BAD[name]())
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and expected in errors[0] and name in errors[0], errors
    assert "Traceback" not in errors[0]
    assert not answers(at)  # no model ran
    # The app is still up: a good photo right after is analysed.
    at = upload(at, "after.png", encode(photo(), "PNG"))
    assert not at.exception and not at.error
    assert len(answers(at)) == 2


def test_an_upload_over_the_size_limit_is_refused(analyse_page):
    at = upload(analyse_page, "huge.jpg", encode(photo(), "JPEG") + b"\x00" * (26 * 2**20))
    assert [e.value for e in at.error] and "over the 25 MB limit" in at.error[0].value


@pytest.mark.parametrize("name", list(GOOD))
def test_every_colour_mode_is_analysed_by_both_models(analyse_page, demo_workspace, name):
    at = upload(analyse_page, name, GOOD[name]())
    assert not at.exception and not at.error, [e.value for e in at.error]
    results = answers(at)
    assert set(results) == {"with background (demo-raw, attention-pool)", "background removed (demo-nobg, attention-pool)"}
    classes = set(json.loads((demo_workspace / "runs" / "demo-raw" / "config.json").read_text())["class_names"])
    assert len(classes) == 4 and set(results.values()) <= classes
    assert "analysed as 64×96 RGB" in " ".join(c.value for c in at.caption)
    assert {"Which house?", "Where the models looked", "Time per step"} <= {s.value for s in at.subheader}


def test_exif_orientation_is_applied(analyse_page):
    at = upload(analyse_page, "rotated.jpg", rotated_jpeg())
    assert not at.exception and not at.error
    assert "analysed as 96×64 RGB" in " ".join(c.value for c in at.caption)


def test_background_removal_gradcam_nearest_looks_and_step_times(analyse_page):
    at = analyse_page
    at.toggle(key="analyse_remove_bg").set_value(True)
    at = upload(at, "photo.png", encode(photo(), "PNG"))
    assert not at.exception and not at.error, [e.value for e in at.error]
    at.toggle(key="analyse_gradcam").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    captions = [c for image in at.image for c in image.captions]
    assert "Before" in captions and "After background removal" in captions
    assert "Nearest runway looks" in {s.value for s in at.subheader}
    charts = len(at.get("plotly_chart"))
    assert charts >= 2 + 2 + 2 + 1  # probabilities ×2, Grad-CAM ×2, kNN distances and histogram, step times
    # Moving the opacity slider re-blends from the cache: still no error.
    at.slider(key="analyse_opacity").set_value(0.8).run()
    assert not at.exception and not at.error


def test_gradcam_follows_the_background_toggle(analyse_page, monkeypatch):
    """Grad-CAM is computed for the input each model really saw: toggling "Remove the background first"
    gives the background-removed model another input, which must get its own Grad-CAM (not the cached one)."""
    from dashboard import artifacts

    seen: list[np.ndarray] = []
    real = artifacts.gradcam_model

    def recording(run):
        cam_model = real(run)

        def compute(batch):
            seen.append(np.array(batch[0]))
            return cam_model(batch)

        return compute

    monkeypatch.setattr(artifacts, "gradcam_model", recording)
    at = upload(analyse_page, "toggle.png", encode(photo(seed=11), "PNG"))  # a photo no other test uploads
    at.toggle(key="analyse_gradcam").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(seen) == 2  # both models, on the original photo
    before = len(seen)
    at.toggle(key="analyse_remove_bg").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    new_inputs = seen[before:]
    # the with-background model still sees the original (cached); the other now sees the cut-out
    assert len(new_inputs) == 1 and not any(np.array_equal(new_inputs[0], old) for old in seen[:before])


def test_what_if_hides_each_zone_and_both_models_answer_again(analyse_page, demo_workspace):
    look = sorted((demo_workspace / "demo" / "images").rglob("*.jpg"))[0]
    at = upload(analyse_page, look.name, look.read_bytes())
    at.toggle(key="analyse_what_if").set_value(True).run()
    problems = [w.value for w in at.warning if not w.value.startswith("Demo data")]
    assert not at.exception and not at.error and not problems, problems
    labels = [metric.label for metric in at.metric]
    assert sum(label.endswith("without the head") for label in labels) == 2  # both models
    table = at.table[0].value
    assert sorted(set(table["hidden"])) == sorted(["head", "torso", "legs", "feet", "background"])
    assert len(table) == 10 and table["p(first answer)"].between(0, 1).all()
    at.segmented_control(key="analyse_hide").set_value("feet").run()
    assert not at.exception
    assert sum(metric.label.endswith("without the feet") for metric in at.metric) == 2


def test_streamlit_keeps_the_keras_session_and_skips_the_forced_gc_between_runs(analyse_page, monkeypatch):
    """Each upload runs the script twice; Streamlit's Keras clear and full GC after a run (≈0.3 s with
    TensorFlow loaded) made the second run wait (bench/browser_waits.py measures the page)."""
    import sys
    import tomllib
    import types

    from streamlit.runtime.scriptrunner import script_runner

    cleared = []
    fake_keras = types.SimpleNamespace(backend=types.SimpleNamespace(clear_session=lambda: cleared.append(1)))
    monkeypatch.setitem(sys.modules, "keras", fake_keras)
    script_runner._clean_problem_modules()
    assert cleared == [] and sys.modules["keras"] is fake_keras
    config = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
