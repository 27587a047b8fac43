"""Zone swap finds the zone a model reads: a fake model whose score depends on one zone's pixels only."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.identity import ZONES
from analysis.identity.faithfulness import house_zone_means
from analysis.identity.methods import swap


@pytest.mark.parametrize("zone", ["feet", "head", "background"])
def test_swap_ranks_the_zone_the_model_reads_first(zone_kit, tmp_path, zone):
    context, scorer = zone_kit.context(tmp_path, zone)
    rows = context.rows.assign(rival=lambda r: np.where(r["brand"] == "A", "B", "A"))
    shares = swap.zone_shares(context, rows)
    assert set(shares["zone"]) == set(ZONES) and len(shares) == len(ZONES) * len(context.rows)
    brands = context.rows.set_index("path")["brand"]
    means, contrasts = house_zone_means(shares, brands), house_zone_means(shares, brands, "contrast")
    for house in ("A", "B"):
        assert means.loc[house].idxmax() == zone, means
        assert means.loc[house, zone] > 0.5  # the other house's key colour swapped in: a large drop in evidence
        assert np.allclose(means.loc[house].drop(zone), 0.0, atol=1e-9)  # nothing else reaches the model
        assert contrasts.loc[house].idxmax() == zone

    calls = scorer.calls
    again = swap.zone_shares(context, rows)
    assert scorer.calls == calls  # every swap came from identity/swap.npz
    assert again.equals(shares)


def test_a_photo_without_a_rival_has_no_contrast_and_donors_are_of_other_houses(zone_kit, tmp_path):
    context, _ = zone_kit.context(tmp_path, "legs")
    shares = swap.zone_shares(context, context.rows.assign(rival=""))
    assert shares["contrast"].isna().all() and shares["share"].notna().all()
    brands = np.array(["A", "A", "B", "B", "C"])
    has_zones = np.array([True, True, True, False, True])
    for index in range(len(brands)):
        picked = swap.pick_donors(brands, has_zones, index, lambda b, own=brands[index]: b != own, 2, 42, 0)
        assert picked and all(brands[j] != brands[index] and has_zones[j] for j in picked)
        assert picked == swap.pick_donors(brands, has_zones, index, lambda b, own=brands[index]: b != own, 2, 42, 0)
    assert swap.pick_donors(brands, has_zones, 2, lambda b: b == "B", 2, 42, 1) == []  # B's other photo has no zones


def test_transplant_keeps_the_donor_outline_at_the_zone_height_and_shows_the_venue_where_the_zone_was():
    image = np.full((12, 12, 3), 50, np.uint8)  # this photo's zone: grey
    plate = np.full((12, 12, 3), 90, np.uint8)  # its venue behind the figure
    donor = np.zeros((12, 12, 3), np.uint8)
    donor[0:2, 0:2] = 200  # the donor's zone: a narrow 2×2 box in the corner
    alpha, donor_alpha = np.zeros((12, 12)), np.zeros((12, 12))
    alpha[4:8, 2:10] = 1.0  # this photo's zone: a wide 4×8 box
    donor_alpha[0:2, 0:2] = 1.0
    out = swap.transplant(image, alpha, donor, donor_alpha, plate)
    # scaled ×2 to the zone's height, so 4 wide, centred on the zone's box (columns 4–7)
    assert (out[4:8, 4:8] == 200).all()
    assert (out[4:8, 2:4] == 90).all() and (out[4:8, 8:10] == 90).all()  # uncovered: the venue, not the old zone
    assert (out[alpha == 0] == 50).all()
    # a donor wider than the zone keeps its width beyond the zone's box (a skirt over trousers' width)
    wide_alpha = np.zeros((12, 12))
    wide_alpha[0:2, 0:12] = 1.0
    wide = swap.transplant(image, np.pad(np.ones((2, 2)), ((6, 4), (5, 5))), np.full((12, 12, 3), 200, np.uint8),
                           wide_alpha, plate)
    assert (wide[6:8, :] == 200).all() and (wide[:6] == 50).all()
    assert swap.transplant(image, np.zeros((12, 12)), donor, donor_alpha, plate) is None  # an empty zone has no swap


def test_another_rival_scores_only_the_donors_not_swapped_in_yet(zone_kit, tmp_path):
    context, scorer = zone_kit.context(tmp_path, "torso", per_class=4)
    rows = context.rows
    first = swap.zone_shares(context, rows.assign(rival=""))  # donors of other houses only
    calls = scorer.calls
    second = swap.zone_shares(context, rows.assign(rival=lambda r: np.where(r["brand"] == "A", "B", "A")))
    brands, has_zones = rows["brand"].to_numpy(), np.ones(len(rows), bool)
    identity = context.settings.identity
    expected = 0
    for i, brand in enumerate(brands):
        others = swap.pick_donors(brands, has_zones, i, lambda b, own=brand: b != own, identity.swap_donors,
                                  identity.seed, 0)
        rivals = swap.pick_donors(brands, has_zones, i, lambda b, own=brand: b != own, identity.swap_donors,
                                  identity.seed, 1)
        new = set(rivals) - set(others)
        expected += (1 + len(ZONES) * len(new)) if new else 0  # the photo again, and each new donor's five swaps
    assert scorer.calls - calls == expected
    assert np.allclose(second["share"], first["share"])  # the stored scores were kept, not replaced
