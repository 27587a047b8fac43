"""What if a zone of one photo were hidden? The photo's five zones from its figure mask, each repainted.

The Analyse page's "what if" for an uploaded photo: there is no generator behind an upload, so the zones
are bands of rembg's figure mask (`analysis.identity.zones`, as for every real photo) and each zone is
repainted from its surroundings (`occlusion:inpaint`: it needs nothing but the photo, where the `mean`
fill, about as faithful on the demo, needs the run's training photos; docs/IDENTITY.md). Pure
functions: the page runs the models on what they return.
"""

from __future__ import annotations

import numpy as np

from analysis.attention import AttentionError
from analysis.identity import ZONES, IdentityError
from analysis.identity.methods.occlusion import occluded_inputs
from analysis.identity.zones import zones_of_mask
from core.config import AttentionSettings

FILL = "inpaint"


def photo_zones(figure_mask: np.ndarray, size: int, attention: AttentionSettings) -> np.ndarray:
    """(5, size, size) fraction of each model-input pixel in each of `ZONES`, from a figure mask (H, W) in
    [0, 1] of the photo at any resolution (the photo is squashed to a square the same way)."""
    try:
        return zones_of_mask(figure_mask, (size, size), attention)
    except AttentionError:
        raise IdentityError("no figure was found in the photo, so it has no zones to hide") from None


def hidden_zone_inputs(model_input: np.ndarray, zones: np.ndarray, attention: AttentionSettings) -> np.ndarray:
    """(5, S, S, 3) uint8: the model's input with each zone repainted in turn, in the order of `ZONES`."""
    return occluded_inputs(np.asarray(model_input, np.uint8), zones, FILL, radius=attention.inpaint_radius)


def answers_when_hidden(original: dict[str, float], hidden: list[dict[str, float]]) -> list[dict]:
    """Per zone: the top house once it is hidden, and how the originally predicted house's probability moved."""
    predicted = max(original, key=original.get)
    rows = []
    for zone, probabilities in zip(ZONES, hidden, strict=True):
        top = max(probabilities, key=probabilities.get)
        rows.append({"zone": zone, "top_house": top, "top_probability": probabilities[top],
                     "predicted": predicted, "predicted_probability": probabilities[predicted],
                     "change": probabilities[predicted] - original[predicted], "flipped": top != predicted})
    return rows
