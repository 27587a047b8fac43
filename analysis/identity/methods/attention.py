"""The learned attention's share of each zone: what the network itself weighs when it pools (or gates) features.

The maps are the ones evaluation wrote (`attention/maps.npy`, one per predictions.csv row, on the
block4 grid); each photo's five zones are area-averaged to that grid (`analysis.identity.zones`, on
`analysis.attention`'s masks) and the share of a zone is the map's mass on it. The map does not
depend on the class, so the same shares answer the rival question: attention cannot say what
separates two houses, only where the network looked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.identity import ZONES
from analysis.identity.context import IdentityContext
from analysis.identity.zones import heat_shares


def zone_shares(context: IdentityContext, rows: pd.DataFrame) -> pd.DataFrame:
    maps = context.run.read_attention_maps(rows=len(context.predictions))
    grid = tuple(maps.shape[1:])
    records = []
    for row_index, row in rows.iterrows():
        zones = context.zones_at(row, grid)
        if zones is None:
            continue
        shares = heat_shares(np.asarray(maps[context.predictions.index.get_loc(row_index)], np.float64), zones)
        records.extend((row["path"], zone, share, share) for zone, share in zip(ZONES, shares, strict=True))
    return pd.DataFrame(records, columns=["path", "zone", "share", "contrast"])
