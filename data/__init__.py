"""Data preparation: from a runway CSV and its photos to dataset folders the model trains from.

    python -m data prepare --csv <runway.csv> --images <root>     # manifest.csv + summary.json
    python -m data remove-background --dataset <dir>              # nobg/ photos, masks, manifest
    python -m data demo ...                                       # generated demo photos with exact masks

`data.prepare` builds the raw manifest (brand normalisation, duplicate removal, seeded splits),
`data.background` runs rembg over a prepared dataset. docs/DATA.md describes both.
"""

from core.contract import DataError

__all__ = ["DataError"]
