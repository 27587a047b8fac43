"""The six fictional fashion houses of the demo atelier and their documented signatures.

Every house carries its identity on named body zones (head, torso, legs, feet): a garment
palette, a pattern family, a silhouette, and accessories on the head or the feet. The houses come
in three pairs that deliberately share cues (palette family, silhouette length, a preferred venue),
so a brand classifier's confusion matrix has structure:

- Ombrelune / Linea Vastra: dark palettes, long narrow silhouettes, the Black Box venue;
  told apart by the feet (platform boots) and the head (wide-brim hat) plus drape vs stripes.
- Casa Sfarzo / Maison Verdigris: gold and burgundy, ornate curving motifs, the Gilded Salon;
  told apart by the head (gold crown) and the torso (wide paisley A-line).
- Tessaline / Blokwerk: light grounds, short hemlines with visible legs, rectilinear patterns,
  the White Cube; told apart by the legs (short narrow tweed skirt) and the feet (chunky sneakers).

The names are invented; no real brand is meant. `signature_zone` is the zone whose cue separates
a house from its twin, the one the attention analytics' body-zone profile should find (the feet house should get more
attention on the feet).
"""

from __future__ import annotations

from dataclasses import dataclass

# Label values of the zones mask (`<nnn>.zones.png`); 0 is background.
ZONES: tuple[str, ...] = ("background", "head", "torso", "legs", "feet")
ZONE_LABELS: dict[str, int] = {name: index for index, name in enumerate(ZONES)}

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class House:
    """One fictional house: what its looks are made of, and where the identity sits."""

    name: str
    slug: str
    signature: str  # one sentence, for docs and the dashboard
    signature_zone: str  # the zone that separates it from its twin
    cue_zones: tuple[str, ...]  # every zone that carries a house-specific cue
    twin: str  # slug of the house it shares cues with
    shared_cues: str
    palette: tuple[RGB, ...]  # garment colours; the first ones are used as grounds
    pattern: str  # drape | stripes | baroque | paisley | tweed | blocks
    garment: str  # column | trousers | sheath | a-line | suit | trapeze
    length: str  # long | mid | short
    width: str  # narrow | wide
    sleeves: str  # long | short | none
    legwear: RGB | None  # tights colour; None shows skin
    head: str  # none | wide-brim-hat | crown
    feet: str  # platform-boots | flats | gold-heels | sandals | slingbacks | sneakers
    preferred_venues: tuple[str, ...]
    # Seasonal drift at drift 1 over the whole year range: palette hue (degrees), value, pattern scale.
    drift_hue: float
    drift_value: float
    drift_scale: float

    def signature_row(self) -> dict:
        """The house as one row of the documented signature table (demo.json, DEMO.md)."""
        return {
            "house": self.name,
            "slug": self.slug,
            "signature": self.signature,
            "signature_zone": self.signature_zone,
            "cue_zones": list(self.cue_zones),
            "palette": [list(c) for c in self.palette],
            "pattern": self.pattern,
            "silhouette": f"{self.length} {self.width} {self.garment}",
            "sleeves": self.sleeves,
            "head": self.head,
            "feet": self.feet,
            "preferred_venues": list(self.preferred_venues),
            "twin": self.twin,
            "shared_cues": self.shared_cues,
        }


HOUSES: tuple[House, ...] = (
    House(
        name="Ombrelune",
        slug="ombrelune",
        signature="Floor-length monochrome drape in black, charcoal and bone, worn with tall black platform boots on thick white soles.",
        signature_zone="feet",
        cue_zones=("torso", "legs", "feet"),
        twin="linea-vastra",
        shared_cues="dark palette, long narrow silhouette, Black Box venue",
        palette=((22, 21, 24), (48, 46, 52), (74, 70, 76), (206, 198, 184)),
        pattern="drape",
        garment="column",
        length="long",
        width="narrow",
        sleeves="long",
        legwear=(18, 18, 20),
        head="none",
        feet="platform-boots",
        preferred_venues=("black-box", "concrete-hall"),
        drift_hue=0.0,
        drift_value=0.9,  # the thesis's own drift example: a dark house that lightens over the seasons
        drift_scale=0.4,
    ),
    House(
        name="Linea Vastra",
        slug="linea-vastra",
        signature="Long narrow trousers and jackets in navy and ivory vertical stripes, under a wide-brim hat.",
        signature_zone="head",
        cue_zones=("head", "torso", "legs"),
        twin="ombrelune",
        shared_cues="dark palette, long narrow silhouette, Black Box venue",
        palette=((28, 38, 78), (52, 52, 58), (236, 230, 214), (120, 28, 36)),
        pattern="stripes",
        garment="trousers",
        length="long",
        width="narrow",
        sleeves="long",
        legwear=None,
        head="wide-brim-hat",
        feet="flats",
        preferred_venues=("black-box", "steel-gallery"),
        drift_hue=-30.0,
        drift_value=0.0,
        drift_scale=0.8,
    ),
    House(
        name="Casa Sfarzo",
        slug="casa-sfarzo",
        signature="Fitted knee-length dresses printed with gold baroque scrolls on black or crimson, crowned with a gold headpiece.",
        signature_zone="head",
        cue_zones=("head", "torso", "feet"),
        twin="maison-verdigris",
        shared_cues="gold and burgundy palette, ornate curving motifs, Gilded Salon venue",
        palette=((16, 12, 10), (138, 18, 30), (214, 172, 58), (28, 52, 140)),
        pattern="baroque",
        garment="sheath",
        length="mid",
        width="narrow",
        sleeves="short",
        legwear=None,
        head="crown",
        feet="gold-heels",
        preferred_venues=("gilded-salon", "mirror-hall"),
        drift_hue=25.0,
        drift_value=0.0,
        drift_scale=-0.35,
    ),
    House(
        name="Maison Verdigris",
        slug="maison-verdigris",
        signature="Wide mid-length A-line dresses covered in paisley motifs of teal, ochre and burgundy, with flat sandals.",
        signature_zone="torso",
        cue_zones=("torso", "legs"),
        twin="casa-sfarzo",
        shared_cues="gold and burgundy palette, ornate curving motifs, Gilded Salon venue",
        palette=((22, 104, 102), (112, 28, 48), (204, 142, 42), (232, 214, 170)),
        pattern="paisley",
        garment="a-line",
        length="mid",
        width="wide",
        sleeves="long",
        legwear=None,
        head="none",
        feet="sandals",
        preferred_venues=("gilded-salon", "winter-garden"),
        drift_hue=40.0,
        drift_value=0.0,
        drift_scale=0.5,
    ),
    House(
        name="Tessaline",
        slug="tessaline",
        signature="Short narrow tweed-check skirt suits in cream and blush with black braid trim, bare legs, two-tone slingbacks.",
        signature_zone="legs",
        cue_zones=("torso", "legs", "feet"),
        twin="blokwerk",
        shared_cues="light grounds, short hemline with visible legs, rectilinear pattern, White Cube venue",
        palette=((234, 224, 204), (228, 176, 184), (24, 22, 24), (150, 150, 160)),
        pattern="tweed",
        garment="suit",
        length="short",
        width="narrow",
        sleeves="long",
        legwear=None,
        head="none",
        feet="slingbacks",
        preferred_venues=("white-cube", "marble-atrium"),
        drift_hue=-20.0,
        drift_value=-0.3,
        drift_scale=0.6,
    ),
    House(
        name="Blokwerk",
        slug="blokwerk",
        signature="Short boxy trapeze dresses in primary colour blocks, sleeveless, with chunky bright sneakers on white soles.",
        signature_zone="feet",
        cue_zones=("torso", "feet"),
        twin="tessaline",
        shared_cues="light grounds, short hemline with visible legs, rectilinear pattern, White Cube venue",
        palette=((212, 36, 42), (242, 200, 32), (32, 72, 192), (240, 238, 232)),
        pattern="blocks",
        garment="trapeze",
        length="short",
        width="wide",
        sleeves="none",
        legwear=None,
        head="none",
        feet="sneakers",
        preferred_venues=("white-cube", "neon-warehouse"),
        drift_hue=30.0,
        drift_value=0.0,
        drift_scale=0.0,
    ),
)

HOUSES_BY_SLUG: dict[str, House] = {house.slug: house for house in HOUSES}


def houses_with_signature_on(zone: str) -> tuple[House, ...]:
    """The houses whose separating cue sits on `zone` (head, torso, legs or feet)."""
    if zone not in ZONE_LABELS or zone == "background":
        raise ValueError(f"unknown body zone {zone!r}; expected one of {', '.join(ZONES[1:])}")
    return tuple(house for house in HOUSES if house.signature_zone == zone)
