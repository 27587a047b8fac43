"""Attention analytics: make the learned attention maps measurable (docs/ATTENTION.md).

One module per metric family, as in Quantus:

- `masks`: figure and body-zone masks brought to the attention map's grid by area averaging;
- `localisation`: attention mass on the figure, the pointing game, the energy-based pointing game;
- `zones`: the body-zone profile (head, torso, legs, feet), exact for the demo, derived for real photos;
- `bootstrap`: per-brand means with percentile-bootstrap confidence intervals;
- `streaming`: all per-image metrics over a run in chunks (memory flat in N), and their timing;
- `sections`: the `attention` and `background_reliance` sections of a run's metrics.json;
- `figures`: Plotly figures and tables the dashboard shows.

Everything here is NumPy/pandas over run-folder files; the model-dependent parts (Grad-CAM,
background reliance) live in `analysis.attention.gradcam` and `analysis.attention.background_reliance`, and the command
that ties them together is `python -m analysis attention --run <run>`.
"""

from __future__ import annotations

ZONES: tuple[str, ...] = ("head", "torso", "legs", "feet")  # label values 1..4 of a zones mask
METRICS: tuple[str, ...] = ("mass_on_figure", "pointing_game", "energy_pointing_game")
ZONE_COLUMNS: tuple[str, ...] = tuple(f"zone_{zone}" for zone in ZONES)
GRADCAM_COLUMNS: tuple[str, ...] = ("gradcam_spearman", "gradcam_topk_overlap")
PER_IMAGE_COLUMNS: tuple[str, ...] = ("path", "brand", "predicted", *METRICS, *ZONE_COLUMNS, *GRADCAM_COLUMNS)


class AttentionError(ValueError):
    """A run, mask or request the attention analytics cannot use; the message is meant for the user."""

# The layer Grad-CAM reads unless told otherwise (the last conv layer): here so that a page can name it
# without importing TensorFlow.
GRADCAM_DEFAULT_LAYER = "block5_conv3"
