"""Counterfactual renders: the same photo with one cue or the venue swapped, changing only the zones
the edit claims, through the generator's own drawing path (whose photos stay byte for byte as before)."""

from __future__ import annotations

import hashlib
from dataclasses import fields, replace

import cv2
import numpy as np
import pytest

from data.demo.counterfactuals import (
    EDITS,
    ORIGINAL,
    VENUE_EDIT,
    changed_zones,
    counterfactual_venue,
    cue_donors,
    render_counterfactuals,
    render_original,
)
from data.demo.draw import CUE_FIELDS, CUES, Look
from data.demo.generate import DemoParams, look_for, plan_looks, render
from data.demo.houses import ZONE_LABELS

PARAMS = DemoParams(houses=6, per_house=2, width=96, height=144, background_informativeness=0.7, seasonal_drift=0.3,
                    seed=5, signature_strength=0.75)
# Lens blur spreads a change by at most 3 pixels (sigma <= 0.8); the masks are dilated a little more.
BLUR_MARGIN = 4
CUE_EDITS = tuple(edit for edit in EDITS if edit != VENUE_EDIT)
# What makes a cue's version look different (the other cue fields are collection colours and sizes).
CUE_KIND = {"fabric": ("pattern",), "cut": ("garment", "sleeves"), "head": ("head",), "feet": ("feet",)}

# sha256 of render()'s JPEG, figure PNG and zones PNG bytes, computed with the generator as it was
# before counterfactuals existed: refactoring the drawing path must not move a pixel of the dataset.
RENDER_SHA256 = {
    "ombrelune/ombrelune-spring-summer-2015-marble-atrium/001": "474448aa45242b1bbd718876d906598a238738c0751d90a7cfff75eda41ec5b6",
    "linea-vastra/linea-vastra-spring-summer-2015-steel-gallery/001": "329a466f8236cf3cab868af22ded7e4d21054c4169e94950d253ebd299b82425",
    "casa-sfarzo/casa-sfarzo-spring-summer-2015-gilded-salon/001": "d894030d5ae29706478360c0066672aaa1f7015b6fc1c61b8d5fd78b29133e36",
    "maison-verdigris/maison-verdigris-spring-summer-2015-gilded-salon/001": "54e84a85e6bf614886ee85f8adb8a3d73515022f0b25f24676efa98259518628",
    "tessaline/tessaline-spring-summer-2015-marble-atrium/001": "4dd64baf982b060766d971b83128e1cc6f536b77b20bb6a5bb0f0fc46ef9bd9a",
    "blokwerk/blokwerk-spring-summer-2015-winter-garden/001": "7dbd874312e68d78ac9de1741661b1e35deda66c272dbf9ff7ce27e77e623f08",
    "ombrelune/ombrelune-fall-winter-2016-winter-garden/001": "9473d320d527f10453d1bde061bd68e47be90a4fff46b83d93ec0df23e74ae57",
    "linea-vastra/linea-vastra-fall-winter-2016-steel-gallery/001": "7f2130dbf5c3541df89d53c1d364f03ed9ada723c6d2497961bc8e75c49bf3d3",
}


@pytest.fixture(scope="module")
def renders() -> list[tuple]:
    """(spec, look, donors, renders by edit including the original) for every look of PARAMS."""
    return [(spec, look_for(spec, PARAMS), cue_donors(spec, PARAMS), render_counterfactuals(spec, PARAMS, (ORIGINAL, *EDITS)))
            for spec in plan_looks(PARAMS)]


def zone_mask(zones: np.ndarray, names: tuple[str, ...], grow: int = 0) -> np.ndarray:
    mask = np.isin(zones, [ZONE_LABELS[name] for name in names]).astype(np.uint8)
    if grow:
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return mask > 0


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.any(a != b, axis=2)


def test_render_output_is_byte_identical_to_the_generator_before_counterfactuals():
    specs = {spec.stem: spec for spec in plan_looks(PARAMS)}
    for stem, expected in RENDER_SHA256.items():
        digest = hashlib.sha256()
        for part in render(specs[stem], PARAMS):
            digest.update(part)
        assert digest.hexdigest() == expected, stem


def test_the_original_through_the_counterfactual_path_is_the_dataset_photo():
    for spec in plan_looks(PARAMS)[::3]:
        jpg, _, zones_png = render(spec, PARAMS)
        original = render_original(spec, PARAMS)
        photo = cv2.cvtColor(cv2.imdecode(np.frombuffer(jpg, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        np.testing.assert_array_equal(original.saved_image(), photo)
        np.testing.assert_array_equal(original.zones, cv2.imdecode(np.frombuffer(zones_png, np.uint8), cv2.IMREAD_UNCHANGED))
        assert original.changed_zones == () and original.venue_slug == spec.collection.venue.slug


def test_donors_share_every_draw_of_the_look_but_its_cues(renders):
    cue_fields = {name for names in CUE_FIELDS.values() for name in names}
    own_fields = [f.name for f in fields(Look) if f.name not in cue_fields | {"house", "cues"}]
    assert {"pose", "skin", "hair", "pattern_seed"} <= set(own_fields)
    for _, look, donors, _ in renders:
        for donor in donors.values():
            assert [getattr(donor, name) for name in own_fields] == [getattr(look, name) for name in own_fields]
        assert not any(donors["basic"].cues) and all(donors["twin"].cues)
        assert donors["twin"].house.slug == look.house.twin


def test_cue_edits_change_pixels_only_in_the_zones_of_their_cue(renders):
    touched = set()  # (edit, zone) pairs some look changed: the claimed zones are not too broad either
    for spec, _, _, by_edit in renders:
        original = by_edit[ORIGINAL]
        for edit in CUE_EDITS:
            render = by_edit[edit]
            claimed = zone_mask(original.zones, render.changed_zones) | zone_mask(render.zones, render.changed_zones)
            outside = ~(zone_mask(original.zones, render.changed_zones, BLUR_MARGIN)
                        | zone_mask(render.zones, render.changed_zones, BLUR_MARGIN))
            difference = changed(render.image, original.image)
            assert not difference[outside].any(), (spec.stem, edit)
            np.testing.assert_array_equal(render.zones[outside], original.zones[outside])
            for zone in render.changed_zones:
                if (difference & claimed & (zone_mask(original.zones, (zone,)) | zone_mask(render.zones, (zone,)))).any():
                    touched.add((edit, zone))
    assert touched == {(edit, zone) for edit in CUE_EDITS for zone in changed_zones(edit)}


def test_a_basic_edit_changes_a_shown_cue_and_leaves_a_basic_one_as_it_is(renders):
    kept = swapped = 0
    for spec, look, donors, by_edit in renders:
        original = by_edit[ORIGINAL]
        for cue, shown in zip(CUES, look.cues, strict=True):
            render = by_edit[f"basic:{cue}"]
            if not shown:
                np.testing.assert_array_equal(render.image, original.image)
                np.testing.assert_array_equal(render.zones, original.zones)
                kept += 1
            elif [getattr(look, f) for f in CUE_KIND[cue]] != [getattr(donors["basic"], f) for f in CUE_KIND[cue]]:
                assert changed(render.image, original.image).any(), (spec.stem, cue)
                swapped += 1
    assert kept and swapped


def test_a_twin_edit_draws_the_rivals_cue_unlike_the_original_and_the_basic(renders):
    cases = {cue: 0 for cue in CUES}
    for spec, look, donors, by_edit in renders:
        for cue, shown in zip(CUES, look.cues, strict=True):
            kind = {name: tuple(getattr(item, f) for f in CUE_KIND[cue]) for name, item in (("own", look), *donors.items())}
            if not shown or kind["twin"] in (kind["own"], kind["basic"]):
                continue
            twin = by_edit[f"twin:{cue}"].image
            assert changed(twin, by_edit[ORIGINAL].image).any(), (spec.stem, cue)
            assert changed(twin, by_edit[f"basic:{cue}"].image).any(), (spec.stem, cue)
            cases[cue] += 1
    assert all(cases.values()), cases


def test_the_venue_edit_keeps_the_figure_and_changes_the_background(renders):
    for spec, _, _, by_edit in renders:
        original, swapped = by_edit[ORIGINAL], by_edit["venue"]
        np.testing.assert_array_equal(swapped.zones, original.zones)
        figure = original.zones > 0
        core = cv2.erode(figure.astype(np.uint8), np.ones((2 * BLUR_MARGIN + 1,) * 2, np.uint8)) > 0
        assert core.any()
        difference = changed(swapped.image, original.image)
        assert not difference[core].any(), spec.stem
        assert difference[~figure].mean() > 0.5, spec.stem
        assert swapped.changed_zones == changed_zones(VENUE_EDIT) == ("background",)
        assert swapped.venue_slug == counterfactual_venue(spec, PARAMS).slug


def test_the_counterfactual_venue_is_never_preferred_and_one_per_show():
    by_show = {}
    for spec in plan_looks(replace(PARAMS, per_house=36)):
        c = spec.collection
        venue = counterfactual_venue(spec, PARAMS)
        assert venue.slug not in c.house.preferred_venues and venue != c.venue
        by_show.setdefault((c.house_index, c.slot), set()).add(venue.slug)
    assert all(len(venues) == 1 for venues in by_show.values())
    assert len(set.union(*by_show.values())) > 3  # a draw, not a fixed venue


def test_rendering_is_deterministic_and_independent_of_the_other_edits_asked(renders):
    spec, _, _, by_edit = renders[4]
    again = render_counterfactuals(spec, PARAMS)
    alone = render_counterfactuals(spec, PARAMS, ["twin:feet"])
    assert set(again) == set(EDITS)
    for edit in EDITS:
        np.testing.assert_array_equal(again[edit].image, by_edit[edit].image)
        np.testing.assert_array_equal(again[edit].zones, by_edit[edit].zones)
    np.testing.assert_array_equal(alone["twin:feet"].image, by_edit["twin:feet"].image)


def test_an_unknown_edit_is_refused_with_the_valid_names():
    with pytest.raises(ValueError, match="basic:fabric"):
        render_counterfactuals(plan_looks(PARAMS)[0], PARAMS, ["basic:hat"])
