"""Counterfactual renders of a demo look: the same photo with one cue, or the venue, swapped.

An attention map says where a model looked; these renders say where a house's identity actually
is. For one planned look they redraw the same photo (pose, placement, camera, venue layout,
audience, lighting and every other random draw unchanged) with one thing changed, always into
something the generator itself draws for some look, so a model sees a photo like those it was
trained on rather than a grey patch it never saw:

- `basic:<cue>`: the cue as the basic version every house shares, as if the look had
  `shows_<cue>` False; a look that already shows the basic version renders unchanged;
- `twin:<cue>`: the cue as the twin house's signature version (its closest rival): the same
  drawing code with the twin's cue fields, from the twin's collection theme of the same season;
- `venue`: another venue behind the same figure, one the house does not prefer (a seeded draw per
  show); the figure keeps the show's own light, so that only background pixels change;
- `basic@<zone>`, `twin@<zone>`: one body zone redrawn with every cue basic (or the twin's), the
  rest of the photo untouched: the all-basic (all-twin) figure's scene pasted inside the zone (the
  zone of either figure, where a cut moves the outline) before the camera's blur and noise, so the
  seam is developed like any edge. These measure a zone directly; the cue edits cannot, because the
  fabric and the cut each cover the torso and the legs.

Each render comes with its zones mask (a cut changes the figure's outline) and the body zones the
edit changes (`draw.CUE_ZONES`; the venue changes the background). Nothing is cached: a caller
that renders many looks keeps its own store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import cv2
import numpy as np

from data.demo.draw import CUE_FIELDS, CUE_ZONES, CUES, Look
from data.demo.generate import (
    _COUNTERFACTUAL_VENUE_STREAM,
    DemoParams,
    LookSpec,
    compose,
    develop,
    dressed_look,
    encode_jpeg,
    look_for,
)
from data.demo.houses import HOUSES, HOUSES_BY_SLUG, ZONE_LABELS
from data.demo.venues import VENUES, Venue

ORIGINAL = "original"  # the unedited look, through the same path (compare like with like)
VENUE_EDIT = "venue"
EDITS: tuple[str, ...] = (*(f"basic:{cue}" for cue in CUES), *(f"twin:{cue}" for cue in CUES), VENUE_EDIT)
BODY_ZONES: tuple[str, ...] = ("head", "torso", "legs", "feet")
ZONE_EDITS: tuple[str, ...] = (*(f"basic@{zone}" for zone in BODY_ZONES), *(f"twin@{zone}" for zone in BODY_ZONES))


@dataclass(frozen=True, eq=False)  # holds arrays: compare pixels with numpy
class Counterfactual:
    edit: str
    image: np.ndarray  # uint8 (H, W, 3) RGB: the developed photo (blur, noise) before JPEG compression
    zones: np.ndarray  # uint8 (H, W): 0 background, 1 head, 2 torso, 3 legs, 4 feet
    changed_zones: tuple[str, ...]  # the zones the edit may change (empty for the original)
    venue_slug: str  # the venue behind the figure
    jpeg_quality: int  # the look's camera quality

    def saved_image(self) -> np.ndarray:
        """The image after the JPEG round trip every dataset photo goes through (what a model is trained on)."""
        encoded = np.frombuffer(encode_jpeg(self.image, self.jpeg_quality), np.uint8)
        return cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def changed_zones(edit: str) -> tuple[str, ...]:
    """The body zones an edit changes: the zones of its cue, the background for the venue, none for the original."""
    if edit == ORIGINAL:
        return ()
    if edit == VENUE_EDIT:
        return ("background",)
    if "@" in edit:
        return (_parse_zone_edit(edit)[1],)
    return CUE_ZONES[_parse(edit)[1]]


def counterfactual_venue(spec: LookSpec, params: DemoParams) -> Venue:
    """The venue of the `venue` edit: uniform among those the house does not prefer, other than the show's own.

    Seeded per show (a show happens at one venue), from its own stream, so it does not depend on
    the background informativeness or on other looks.
    """
    c = spec.collection
    pool = [v for v in VENUES if v.slug not in c.house.preferred_venues and v != c.venue]
    rng = np.random.default_rng(np.random.SeedSequence([params.seed, _COUNTERFACTUAL_VENUE_STREAM, c.house_index, c.slot]))
    return pool[int(rng.integers(len(pool)))]


def cue_donors(spec: LookSpec, params: DemoParams) -> dict[str, Look]:
    """The look dressed all-basic and dressed by its twin house with every signature cue, from the look's own draws."""
    c = spec.collection
    twin_index = HOUSES.index(HOUSES_BY_SLUG[c.house.twin])
    return {"basic": dressed_look(spec, params, c.house_index, 0.0),
            "twin": dressed_look(spec, params, twin_index, 1.0)}


def swap_cue(look: Look, donor: Look, cue: str) -> Look:
    """`look` with the fields of `cue` taken from `donor`; it no longer shows its house's version of the cue."""
    cues = tuple(False if name == cue else shown for name, shown in zip(CUES, look.cues, strict=True))
    return replace(look, cues=cues, **{name: getattr(donor, name) for name in CUE_FIELDS[cue]})


def swap_all_cues(look: Look, donor: Look) -> Look:
    """`look` with every cue taken from `donor` (the all-basic or all-twin figure in the same pose)."""
    for cue in CUES:
        look = swap_cue(look, donor, cue)
    return look


def paste_zone(original: tuple[np.ndarray, np.ndarray], edited: tuple[np.ndarray, np.ndarray],
               zone_label: int) -> tuple[np.ndarray, np.ndarray]:
    """(scene, zones) of `original` with `edited`'s pixels and labels inside the zone of either figure."""
    (scene, zones), (edited_scene, edited_zones) = original, edited
    inside = (zones == zone_label) | (edited_zones == zone_label)
    return np.where(inside[..., None], edited_scene, scene), np.where(inside, edited_zones, zones)


def render_counterfactuals(spec: LookSpec, params: DemoParams, edits: Iterable[str] | None = None) -> dict[str, Counterfactual]:
    """Counterfactual renders of one look, by edit name (default: all of `EDITS`; `ORIGINAL` and `ZONE_EDITS`
    are accepted too)."""
    edits = EDITS if edits is None else tuple(edits)
    for edit in edits:
        _parse_zone_edit(edit) if "@" in edit else _parse(edit)  # refuse a bad name before drawing anything
    look = look_for(spec, params)
    donors = cue_donors(spec, params)
    scenes: dict[str, tuple] = {}

    def scene_of(kind: str) -> tuple:  # (scene, zones, camera) of the original, or of the all-basic/all-twin figure
        if kind not in scenes:
            scenes[kind] = compose(spec, params, look=swap_all_cues(look, donors[kind]) if kind in donors else look)
        return scenes[kind]

    results = {}
    for edit in edits:
        venue = counterfactual_venue(spec, params) if edit == VENUE_EDIT else spec.collection.venue
        if "@" in edit:
            kind, zone = _parse_zone_edit(edit)
            scene, zones = paste_zone(scene_of(ORIGINAL)[:2], scene_of(kind)[:2], ZONE_LABELS[zone])
            camera = scene_of(ORIGINAL)[2]  # the camera draws are the look's own, whatever the figure wears
        elif edit == ORIGINAL:
            scene, zones, camera = scene_of(ORIGINAL)  # the zone edits' base: composed once
        else:
            kind, cue = _parse(edit)
            edited = swap_cue(look, donors[kind], cue) if cue else look
            scene, zones, camera = compose(spec, params, look=edited, backdrop_venue=venue)
        results[edit] = Counterfactual(edit=edit, image=develop(scene, camera), zones=zones,
                                       changed_zones=changed_zones(edit), venue_slug=venue.slug,
                                       jpeg_quality=camera.quality)
    return results


def render_original(spec: LookSpec, params: DemoParams) -> Counterfactual:
    """The unedited look through the counterfactuals' path: the reference the edits are compared with."""
    return render_counterfactuals(spec, params, (ORIGINAL,))[ORIGINAL]


def _parse(edit: str) -> tuple[str, str | None]:
    """(kind, cue) of an edit name: ("basic", "head"), ("twin", "feet"), ("venue", None), ("original", None)."""
    if edit in (ORIGINAL, VENUE_EDIT):
        return edit, None
    kind, _, cue = edit.partition(":")
    if kind not in ("basic", "twin") or cue not in CUES:
        raise ValueError(f"unknown counterfactual edit {edit!r}; expected one of {', '.join((ORIGINAL, *EDITS, *ZONE_EDITS))}")
    return kind, cue


def _parse_zone_edit(edit: str) -> tuple[str, str]:
    """(kind, zone) of a zone edit name: ("basic", "torso"), ("twin", "legs")."""
    kind, _, zone = edit.partition("@")
    if kind not in ("basic", "twin") or zone not in BODY_ZONES:
        raise ValueError(f"unknown counterfactual edit {edit!r}; expected one of {', '.join((ORIGINAL, *EDITS, *ZONE_EDITS))}")
    return kind, zone
