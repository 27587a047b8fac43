"""Drawing a runway look: a standing figure with garments, patterns and accessories, and its zone labels.

The figure is built from polygons in a body frame whose unit is the figure's height (head top 0,
soles 1). Every part is filled into the photo and, with the same polygon and the same rasteriser,
into a label image (1 head, 2 torso, 3 legs, 4 feet), so the masks are exact by construction.
Zone rules: hair, hats and the neck are head; the upper-body garment, arms and hands are torso;
garment rows below the hip line and the legs are legs; shoes and boots are feet.

`sample_theme` draws what a collection shares (colours after seasonal drift, pattern scale,
accessory colours); `sample_look` draws what varies per photo (position, scale, pose, skin, hair)
and which of the house's four cues the photo shows: with probability `signature_strength` each,
independently, its fabric (palette, pattern, legwear), its cut (silhouette, sleeves), its headwear
and its shoes; a cue not shown is replaced by a basic one every house shares (plain neutral fabric,
a knee-length shift dress, no headwear, plain pumps), as real collections mix signature and basic looks.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import cv2
import numpy as np

from data.demo.houses import ZONE_LABELS, House
from data.demo.venues import skin_tone

RGB = tuple[int, int, int]
HEAD, TORSO, LEGS, FEET = (ZONE_LABELS[z] for z in ("head", "torso", "legs", "feet"))

# Body proportions in figure-height units (a fashion figure: a long-legged 8-heads canon).
HEAD_CY, HEAD_RX, HEAD_RY = 0.065, 0.043, 0.062
NECK_TOP, SHOULDER_Y, SHOULDER_HW = 0.115, 0.172, 0.105
WAIST_Y, WAIST_HW, HIP_Y, HIP_HW = 0.37, 0.068, 0.49, 0.092
HIP_JOINT_X, KNEE_Y, ANKLE_Y = 0.048, 0.72, 0.955
UPPER_ARM, FOREARM = 0.19, 0.17

HAIR_COLOURS: tuple[RGB, ...] = ((24, 20, 18), (58, 38, 26), (110, 74, 44), (196, 160, 104), (160, 156, 150), (128, 52, 28))
SNEAKER_COLOURS: tuple[RGB, ...] = ((170, 230, 40), (250, 120, 20), (240, 60, 150))
HAT_COLOURS: tuple[RGB, ...] = ((20, 20, 24), (28, 38, 78), (236, 230, 214))
BASIC_COLOURS: tuple[RGB, ...] = ((26, 26, 28), (236, 234, 228), (128, 128, 134), (204, 186, 158), (36, 42, 72))
CUES = ("fabric", "cut", "head", "feet")
# The Look fields each cue sets (the rest are the photo's own draws: pose, skin, hair, pattern phase).
# A counterfactual that swaps a cue replaces exactly these fields, so the drawing code reads every
# house- or collection-specific value through one of them, never through the collection theme.
CUE_FIELDS: dict[str, tuple[str, ...]] = {
    "fabric": ("pattern", "colours", "legwear", "pattern_scale", "pattern_variant"),
    "cut": ("garment", "hem", "hem_hw", "hem_skew", "sleeves"),
    "head": ("head", "headwear_colour", "headwear_band", "headwear_variant"),
    "feet": ("feet", "shoe_colour"),
}
# The body zones a cue's pixels land on, by the zone rules above: the fabric fills the garment (torso
# above the hip line, legs below), the sleeves (torso) and the legwear (legs); the cut moves the
# garment's outline and sleeves (torso, legs); headwear is head; shoes are feet. Shoes, neck, hair and
# head are drawn after the garment, so no fabric or cut change reaches the head or feet zones.
CUE_ZONES: dict[str, tuple[str, ...]] = {"fabric": ("torso", "legs"), "cut": ("torso", "legs"), "head": ("head",),
                                         "feet": ("feet",)}

# Per pattern family: the base pattern period in figure-height units.
PATTERN_UNIT = {"solid": 0.2, "drape": 0.075, "stripes": 0.035, "tweed": 0.05, "paisley": 0.085, "baroque": 0.12, "blocks": 1.0}


@dataclass(frozen=True)
class Theme:
    """What the looks of one collection share."""

    colours: tuple[RGB, ...]  # ordered: ground first
    scale: float  # pattern period multiplier
    variant: int  # family-specific choice (e.g. block layout, stripe accent)
    accessory: RGB  # hat or sneaker colour (never drifts: accessories stay the signature)


@dataclass(frozen=True)
class Pose:
    cx: float  # pixels: hip centre
    feet_y: float  # pixels: sole line
    height: float  # pixels: head top to soles
    lean: float  # shoulder shift, figure units
    ankles: tuple[tuple[float, float], tuple[float, float]]  # (x, y) figure units, left then right
    arms: tuple[tuple[float, float], tuple[float, float]]  # (upper arm, forearm) angles in degrees from vertical, outward positive


@dataclass(frozen=True)
class Look:
    house: House
    pose: Pose
    cues: tuple[bool, bool, bool, bool]  # which of CUES show the house's signature (else the basic one)
    # fabric
    pattern: str
    colours: tuple[RGB, ...]  # fabric colours with per-look jitter, ground first
    legwear: RGB | None
    pattern_scale: float  # the collection's pattern period multiplier
    pattern_variant: int  # the collection's stripe accent or block layout
    # cut
    garment: str
    hem: float  # hem row in figure units
    hem_hw: float  # half-width at the hem (or trouser leg at the ankle), figure units
    hem_skew: float  # asymmetric drape hem of a column, figure units (0 for other garments)
    sleeves: str
    # head
    head: str
    headwear_colour: RGB  # hat colour (the collection's accessory colour)
    headwear_band: RGB  # hat band colour
    headwear_variant: int  # the collection's brim width or crown spikes
    # feet
    feet: str
    shoe_colour: RGB  # sneaker colour (the collection's accessory colour)
    # the photo's own
    skin: RGB
    hair: RGB
    hair_style: int  # 0 short cap, 1 bun, 2 long
    pattern_phase: tuple[float, float]
    pattern_seed: int


def drift_colour(colour: RGB, hue_degrees: float, value_change: float) -> RGB:
    """Rotate hue and move value toward white (>0) or black (<0); 0 and 0 return the colour."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255.0 for c in colour))
    h = (h + hue_degrees / 360.0) % 1.0
    v = v + value_change * (1.0 - v) if value_change >= 0 else v * (1.0 + value_change)
    return tuple(int(round(255 * c)) for c in colorsys.hsv_to_rgb(h, s, min(max(v, 0.0), 1.0)))


def sample_theme(house: House, year: int, drift: float, years: tuple[int, int], rng: np.random.Generator) -> Theme:
    """A collection's shared look; `drift` 0 makes it independent of `year` (same distribution every year)."""
    first, last = years
    progress = 0.0 if last == first else (year - first) / (last - first)
    amount = drift * progress
    palette = [drift_colour(c, house.drift_hue * amount, house.drift_value * amount) for c in house.palette]
    if house.pattern == "drape":  # monochrome: one ground, mostly black
        ground = int(rng.choice(4, p=[0.5, 0.25, 0.15, 0.1]))
    elif house.pattern in ("stripes", "tweed", "baroque"):
        ground = int(rng.integers(2))
    else:
        ground = int(rng.integers(3))
    order = [ground] + [i for i in range(len(palette)) if i != ground]
    colours = tuple(palette[i] for i in order)
    scale = float(rng.uniform(0.85, 1.2) * (1.0 + house.drift_scale * amount))
    accessory = SNEAKER_COLOURS[rng.integers(len(SNEAKER_COLOURS))] if house.feet == "sneakers" else HAT_COLOURS[rng.integers(len(HAT_COLOURS))]
    return Theme(colours=colours, scale=max(scale, 0.3), variant=int(rng.integers(4)), accessory=accessory)


def _hem_and_width(garment: str, length: str, width: str, draws: np.ndarray) -> tuple[float, float]:
    """Hem row and hem half-width from two uniform draws in [0, 1)."""
    if garment == "trousers":
        low, high = (0.07, 0.09) if width == "wide" else (0.03, 0.04)
        return ANKLE_Y - 0.005, low + draws[1] * (high - low)
    hem = {"long": (0.86, 0.93), "mid": (0.66, 0.78), "short": (0.56, 0.63)}[length]
    half = {"wide": (0.2, 0.26), "narrow": (0.11, 0.14), "medium": (0.15, 0.18)}[width]
    return hem[0] + draws[0] * (hem[1] - hem[0]), half[0] + draws[1] * (half[1] - half[0])


def sample_look(house: House, theme: Theme, width: int, height: int, rng: np.random.Generator,
                signature_strength: float = 1.0) -> Look:
    """One photo's figure: placement, scale, pose, skin and hair, colour jitter, and which cues it shows.

    The number of random draws does not depend on `signature_strength`, so changing it changes
    which cues a look shows and nothing else (same pose, skin, placement).
    """
    feet_y = height * rng.uniform(0.89, 0.95)
    tallest = min(0.84 * height, (feet_y - 0.02 * height) / 1.08)  # room for a hat or crown
    fig_h = rng.uniform(min(0.68 * height, tallest), tallest)
    cx = width * (0.5 + rng.uniform(-0.13, 0.13))
    cross, shift = rng.uniform(0.0, 0.045), rng.uniform(-0.02, 0.02)
    lifted, lift = int(rng.integers(2)), rng.uniform(0.0, 0.045)
    ankles = [[-0.045 + cross + shift, ANKLE_Y], [0.045 - cross + shift, ANKLE_Y]]
    ankles[lifted][1] -= lift
    arms = []
    for _ in range(2):
        if rng.uniform() < 0.15:  # hand on hip
            arms.append((rng.uniform(30, 42), rng.uniform(-70, -50)))
        else:
            upper = rng.uniform(4, 22)
            arms.append((upper, upper + rng.uniform(-25, 12)))
    pose = Pose(cx=cx, feet_y=feet_y, height=fig_h, lean=rng.uniform(-0.02, 0.02),
                ankles=(tuple(ankles[0]), tuple(ankles[1])), arms=(arms[0], arms[1]))
    jitter = rng.uniform(-8, 8, size=(len(theme.colours), 3))
    colours = tuple(tuple(int(min(max(c + d, 0.0), 255.0)) for c, d in zip(colour, row, strict=True))
                    for colour, row in zip(theme.colours, jitter, strict=True))
    cues = tuple(bool(v) for v in rng.uniform(size=len(CUES)) < signature_strength)
    basic = BASIC_COLOURS[rng.integers(len(BASIC_COLOURS))]
    fabric, cut, head, feet = cues
    if cut:
        garment, length, fit, sleeves = house.garment, house.length, house.width, house.sleeves
    else:
        garment, length, fit, sleeves = "sheath", "mid", "medium", "long"
    hem, hem_hw = _hem_and_width(garment, length, fit, rng.uniform(size=2))
    # the hat band takes the house's palette even when the fabric is basic
    band = colours[3] if theme.accessory != colours[3] else (200, 200, 200)
    return Look(
        house=house, pose=pose, cues=cues,
        pattern=house.pattern if fabric else "solid",
        colours=colours if fabric else (basic, *colours[1:]),
        legwear=house.legwear if fabric else None,
        pattern_scale=theme.scale, pattern_variant=theme.variant,
        garment=garment, hem=hem, hem_hw=hem_hw, sleeves=sleeves,
        hem_skew=0.03 * (theme.variant - 1.5) if garment == "column" else 0.0,  # asymmetric drape hem
        head=house.head if head else "none",
        headwear_colour=theme.accessory, headwear_band=band, headwear_variant=theme.variant,
        feet=house.feet if feet else "pumps", shoe_colour=theme.accessory,
        skin=skin_tone(rng), hair=HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))], hair_style=int(rng.integers(3)),
        pattern_phase=(rng.uniform(0, 1), rng.uniform(0, 1)), pattern_seed=int(rng.integers(2**31)),
    )


# ---------------------------------------------------------------- patterns


def _pattern(look: Look, shape: tuple[int, int], unit_px: float, centre_x: float) -> np.ndarray:
    """The garment fabric as float32 (h, w, 3) in the figure's bounding box; `centre_x` is the body axis."""
    h, w = shape
    family = look.pattern
    colours = [np.asarray(c, np.float32) for c in look.colours]
    period = max(2.0, unit_px * PATTERN_UNIT[family] * look.pattern_scale)
    phase_x, phase_y = (p * period for p in look.pattern_phase)
    rng = np.random.default_rng(look.pattern_seed)
    xs = np.arange(w, dtype=np.float32)[None, :] + phase_x
    ys = np.arange(h, dtype=np.float32)[:, None] + phase_y
    if family == "solid":  # basic fabric: flat colour, soft folds
        folds = np.sin(2 * np.pi * xs / period)[..., None].astype(np.float32)
        return colours[0] * (1 + 0.05 * folds) + 6 * folds + np.zeros((h, 1, 3), np.float32)
    if family == "drape":
        folds = np.sin(2 * np.pi * xs / period + 0.6 * np.sin(2 * np.pi * ys / (4 * period))) + 0.4 * np.sin(4 * np.pi * xs / period)
        shade = folds[..., None].astype(np.float32)
        return colours[0] * (1 + 0.18 * shade) + 26 * shade
    if family == "stripes":
        band = (np.floor(xs / period).astype(np.int32) % 2 == 1)[..., None]
        texture = np.where(band, colours[2], colours[0]) + np.zeros((h, 1, 3), np.float32)
        if look.pattern_variant % 2:  # a thin accent stripe in the ground every other period
            accent = ((xs % (2 * period)) < max(1.0, 0.15 * period))[..., None]
            texture = np.where(accent, colours[3], texture)
        return texture
    if family == "tweed":
        check = 0.3 * period
        vx = (xs % period) < check
        hy = (ys % period) < check
        texture = np.broadcast_to(colours[0], (h, w, 3)).astype(np.float32).copy()
        texture[vx | hy] = 0.5 * colours[0] + 0.5 * colours[1]
        texture[vx & hy] = colours[1]
        threads = ((xs + period / 2) % period < 1) | ((ys + period / 2) % period < 1)
        texture[np.broadcast_to(threads, (h, w))] = colours[2]
        boucle = rng.normal(0.0, 16.0, size=(h, w, 1)).astype(np.float32)
        return texture + boucle
    if family == "paisley":
        texture = np.broadcast_to(colours[0], (h, w, 3)).astype(np.float32).copy()
        step = period
        for gy in np.arange(-step / 2, h + step, step):
            for gx in np.arange(-step / 2 + (gy / step % 2) * step / 2, w + step, step):
                _paisley_motif(texture, gx + rng.uniform(-0.2, 0.2) * step, gy + rng.uniform(-0.2, 0.2) * step,
                               0.27 * step, rng.uniform(0, 2 * np.pi), colours)
        return texture
    if family == "baroque":
        texture = np.broadcast_to(colours[0], (h, w, 3)).astype(np.float32).copy()
        thickness = max(1, int(round(period * 0.06)))
        gold = tuple(float(c) for c in colours[2])
        half = int(np.ceil(centre_x)) + 1
        for gy in np.arange(0, h + period, period):
            for gx in np.arange(centre_x % period - period, half + period, period):
                _scroll(texture, gx, gy, 0.38 * period, rng.uniform(0, 360), gold, thickness)
            cv2.line(texture, (0, int(gy + period / 2)), (w, int(gy + period / 2)), gold, thickness)
        # baroque symmetry: mirror the left half about the body axis
        axis = int(round(centre_x))
        width_right = min(axis, w - axis)
        if width_right > 0:
            texture[:, axis:axis + width_right] = texture[:, axis - width_right:axis][:, ::-1]
        return texture
    if family == "blocks":
        layout = look.pattern_variant
        split_x = int(np.clip(centre_x + (rng.uniform(-0.06, 0.06) + (0.05 if layout % 2 else -0.05)) * unit_px, 0, w))
        split_y = int(np.clip((0.25 + 0.1 * (layout // 2)) * h + rng.uniform(-0.03, 0.03) * h, 0, h))
        picks = rng.permutation(3)
        texture = np.empty((h, w, 3), np.float32)
        texture[:split_y, :split_x] = colours[picks[0]]
        texture[:split_y, split_x:] = colours[picks[1]]
        texture[split_y:] = colours[picks[2]]
        if layout >= 2:  # Mondrian-style black seams
            seam = max(1, int(round(0.01 * unit_px)))
            texture[max(0, split_y - seam):split_y + seam] = 20
            texture[:split_y, max(0, split_x - seam):split_x + seam] = 20
        return texture
    raise ValueError(f"unknown pattern family {family!r}")


def _paisley_motif(texture: np.ndarray, x: float, y: float, radius: float, angle: float, colours: list[np.ndarray]) -> None:
    """A teardrop with a curled tail, an inner drop and an eye."""
    direction = np.array([np.cos(angle), np.sin(angle)])
    normal = np.array([-direction[1], direction[0]])
    centre = np.array([x, y])
    tail = centre + direction * 2.2 * radius + normal * 0.8 * radius
    bend = centre + direction * 1.2 * radius + normal * 0.55 * radius
    body = np.array([centre + normal * radius, bend, tail, centre - normal * radius * 0.2 + direction * radius, centre - normal * radius])
    accent, inner, eye = (tuple(float(v) for v in c) for c in (colours[1], colours[2], colours[3]))
    cv2.circle(texture, (int(x), int(y)), max(1, int(radius)), accent, -1)
    cv2.fillPoly(texture, [body.astype(np.int32)], accent)
    cv2.circle(texture, (int(x), int(y)), max(1, int(radius * 0.6)), inner, -1)
    cv2.circle(texture, (int(x), int(y)), max(1, int(radius * 0.22)), eye, -1)


def _scroll(texture: np.ndarray, x: float, y: float, radius: float, start: float, colour, thickness: int) -> None:
    """A C-scroll: three nested arcs turning inward, plus a leaf."""
    for k in range(3):
        r = radius * (1 - 0.3 * k)
        offset = radius * 0.3 * k
        cv2.ellipse(texture, (int(x + offset), int(y)), (max(1, int(r)), max(1, int(r * 0.8))), start, 0, 270, colour, thickness)
    cv2.ellipse(texture, (int(x - radius), int(y + radius * 0.6)), (max(1, int(radius * 0.45)), max(1, int(radius * 0.18))),
                start + 30, 0, 360, colour, -1)


# ---------------------------------------------------------------- figure


class _Frame:
    """Maps body-frame units (x right of the hip centre, y down from the head top) to pixels."""

    def __init__(self, pose: Pose):
        self.pose = pose
        self.top = pose.feet_y - pose.height

    def x_shift(self, y: float) -> float:
        # the upper body leans: full shift at the shoulders, none at the hips
        return self.pose.lean * float(np.clip((HIP_Y - y) / (HIP_Y - SHOULDER_Y), 0.0, 1.2))

    def px(self, x: float, y: float) -> tuple[float, float]:
        return self.pose.cx + (x + self.x_shift(y)) * self.pose.height, self.top + y * self.pose.height

    def poly(self, points) -> np.ndarray:
        return np.array([self.px(x, y) for x, y in points]).round().astype(np.int32)


def _limb(p0: np.ndarray, p1: np.ndarray, w0: float, w1: float) -> np.ndarray:
    """A tapered quad from p0 (half-width w0) to p1 (half-width w1), in pixels."""
    d = p1 - p0
    n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-6)
    return np.array([p0 + n * w0, p1 + n * w1, p1 - n * w1, p0 - n * w0]).round().astype(np.int32)


class _Painter:
    """Fills a polygon into the photo and the label image with one rasteriser, so they agree."""

    def __init__(self, image: np.ndarray):
        self.image = image
        self.labels = np.zeros(image.shape[:2], np.uint8)
        self.garment = np.zeros(image.shape[:2], np.uint8)

    def fill(self, polygon: np.ndarray, colour: RGB, zone: int) -> None:
        cv2.fillPoly(self.image, [polygon], colour)
        cv2.fillPoly(self.labels, [polygon], zone)

    def ellipse(self, centre, axes, colour: RGB, zone: int, angle: float = 0, start: float = 0, end: float = 360) -> None:
        centre = (int(round(centre[0])), int(round(centre[1])))
        axes = (max(1, int(round(axes[0]))), max(1, int(round(axes[1]))))
        cv2.ellipse(self.image, centre, axes, angle, start, end, colour, -1)
        cv2.ellipse(self.labels, centre, axes, angle, start, end, zone, -1)


def _arm_points(frame: _Frame, side: int, angles: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    u = frame.pose.height
    shoulder = np.array(frame.px(side * (SHOULDER_HW - 0.012), SHOULDER_Y + 0.012))
    upper, fore = np.radians(angles[0]), np.radians(angles[1])
    elbow = shoulder + u * UPPER_ARM * np.array([side * np.sin(upper), np.cos(upper)])
    wrist = elbow + u * FOREARM * np.array([side * np.sin(fore), np.cos(fore)])
    return shoulder, elbow, wrist


def _garment_polygons(look: Look, frame: _Frame) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(body pieces split at the hip line, pieces drawn over them such as jackets), in pixels."""
    hem, hw = look.hem, look.hem_hw
    neck = [(-0.035, SHOULDER_Y - 0.006), (-SHOULDER_HW, SHOULDER_Y + 0.004), (-(SHOULDER_HW - 0.012), 0.25)]
    right_neck = [(-x, y) for x, y in reversed(neck)]
    v_point = [(0.0, SHOULDER_Y + 0.035)]
    garment = look.garment
    if garment in ("column", "sheath", "a-line", "trapeze"):
        left = list(neck)
        if garment in ("column", "sheath"):
            left += [(-WAIST_HW, WAIST_Y), (-HIP_HW * 1.04, HIP_Y)]
        elif garment == "a-line":
            left += [(-WAIST_HW, WAIST_Y)]
        sag = 0.012 if garment != "column" else 0.0
        skew = look.hem_skew
        hem_points = [(-hw, hem - skew), (-hw * 0.5, hem + sag - skew / 2), (hw * 0.5, hem + sag + skew / 2), (hw, hem + skew)]
        right = [(-x, y) for x, y in reversed(left)]
        return [frame.poly(left + hem_points + right + v_point)], []
    if garment == "trousers":
        legs = []
        for side, (ax, ay) in zip((-1, 1), look.pose.ankles, strict=True):
            knee_x = (side * HIP_JOINT_X + ax) / 2
            outer = [(side * HIP_HW, HIP_Y - 0.02), (knee_x + side * (hw + 0.012), KNEE_Y), (ax + side * hw, min(ay, hem))]
            inner = [(ax - side * hw, min(ay, hem)), (knee_x - side * (hw * 0.7 + 0.01), KNEE_Y), (0.0, HIP_Y + 0.06)]
            legs.append(frame.poly(outer + inner))
        jacket = frame.poly(neck + [(-WAIST_HW - 0.004, WAIST_Y), (-HIP_HW - 0.01, HIP_Y + 0.05), (HIP_HW + 0.01, HIP_Y + 0.05),
                                    (WAIST_HW + 0.004, WAIST_Y)] + right_neck + v_point)
        return legs, [jacket]
    if garment == "suit":
        skirt = frame.poly([(-HIP_HW * 1.02, HIP_Y - 0.03), (HIP_HW * 1.02, HIP_Y - 0.03), (hw, hem), (-hw, hem)])
        jacket = frame.poly(neck + [(-WAIST_HW - 0.012, WAIST_Y), (-HIP_HW - 0.012, HIP_Y + 0.035), (HIP_HW + 0.012, HIP_Y + 0.035),
                                    (WAIST_HW + 0.012, WAIST_Y)] + right_neck + v_point)
        return [skirt], [jacket]
    raise ValueError(f"unknown garment {garment!r}")


def _shoe(painter: _Painter, kind: str, ax: float, ay: float, u: float, look: Look) -> None:
    def p(dx: float, dy: float) -> tuple[float, float]:
        return ax + dx * u, ay + dy * u

    def poly(points) -> np.ndarray:
        return np.array([p(*pt) for pt in points]).round().astype(np.int32)

    if kind == "platform-boots":
        painter.fill(poly([(-0.036, -0.17), (0.036, -0.17), (0.038, 0.0), (-0.038, 0.0)]), (22, 22, 24), FEET)
        painter.ellipse(p(0, 0.016), (0.042 * u, 0.024 * u), (22, 22, 24), FEET)
        painter.fill(poly([(-0.048, 0.028), (0.048, 0.028), (0.046, 0.058), (-0.046, 0.058)]), (236, 232, 224), FEET)
    elif kind == "flats":
        painter.ellipse(p(0, 0.026), (0.028 * u, 0.019 * u), (38, 34, 40), FEET)
    elif kind == "pumps":  # the basic shoe every house may show
        painter.fill(poly([(-0.022, 0.004), (0.022, 0.004), (0.016, 0.04), (-0.016, 0.04)]), (92, 70, 58), FEET)
    elif kind == "gold-heels":
        painter.fill(poly([(-0.026, 0.004), (0.026, 0.004), (0.013, 0.044), (0.0, 0.052), (-0.013, 0.044)]), (214, 172, 58), FEET)
        painter.ellipse(p(-0.008, 0.016), (0.007 * u, 0.012 * u), (250, 226, 140), FEET)
    elif kind == "sandals":
        painter.ellipse(p(0, 0.026), (0.021 * u, 0.025 * u), look.skin, FEET)
        for dy in (0.012, 0.03):
            painter.fill(poly([(-0.023, dy), (0.023, dy), (0.023, dy + 0.007), (-0.023, dy + 0.007)]), (150, 100, 60), FEET)
    elif kind == "slingbacks":
        painter.fill(poly([(-0.026, 0.0), (0.026, 0.0), (0.02, 0.03), (-0.02, 0.03)]), (226, 206, 176), FEET)
        painter.fill(poly([(-0.02, 0.03), (0.02, 0.03), (0.008, 0.052), (-0.008, 0.052)]), (24, 22, 24), FEET)
    elif kind == "sneakers":
        painter.ellipse(p(0, 0.02), (0.044 * u, 0.03 * u), look.shoe_colour, FEET)
        painter.fill(poly([(-0.048, 0.034), (0.048, 0.034), (0.046, 0.058), (-0.046, 0.058)]), (246, 246, 244), FEET)
        for dy in (-0.004, 0.008):
            painter.fill(poly([(-0.012, dy), (0.012, dy), (0.012, dy + 0.004), (-0.012, dy + 0.004)]), (250, 250, 250), FEET)
    else:
        raise ValueError(f"unknown shoe {kind!r}")


def _headwear(painter: _Painter, look: Look, frame: _Frame) -> None:
    u = frame.pose.height
    hx, top = frame.px(0.0, 0.0)
    if look.head == "wide-brim-hat":
        brim = look.headwear_variant * 0.01 + 0.095
        colour = look.headwear_colour
        painter.fill(frame.poly([(-0.036, -0.055), (0.036, -0.055), (0.042, 0.022), (-0.042, 0.022)]), colour, HEAD)
        painter.ellipse((hx, top + 0.024 * u), (brim * u, 0.017 * u), colour, HEAD)
        band = look.headwear_band
        painter.fill(frame.poly([(-0.04, 0.0), (0.04, 0.0), (0.041, 0.012), (-0.041, 0.012)]), band, HEAD)
    elif look.head == "crown":
        spikes = 5 + look.headwear_variant % 3
        points = [(-0.05, 0.03)]
        for k in range(spikes * 2 + 1):
            x = -0.05 + 0.1 * k / (spikes * 2)
            points.append((x, -0.055 if k % 2 else -0.005))
        points.append((0.05, 0.03))
        painter.fill(frame.poly(points), (214, 172, 58), HEAD)
        painter.fill(frame.poly([(-0.05, 0.012), (0.05, 0.012), (0.05, 0.03), (-0.05, 0.03)]), (176, 132, 36), HEAD)
        for k, colour in zip(range(3), ((180, 20, 40), (30, 60, 170), (180, 20, 40)), strict=True):
            painter.ellipse(frame.px(-0.03 + 0.03 * k, 0.021), (0.007 * u, 0.007 * u), colour, HEAD)


def draw_figure(image: np.ndarray, look: Look) -> np.ndarray:
    """Draw the look onto `image` (RGB uint8, in place) and return its zone labels (uint8, 0..4)."""
    pose = look.pose
    frame = _Frame(pose)
    u = pose.height
    painter = _Painter(image)
    legwear = look.legwear or look.skin

    # legs: hip joint -> knee -> ankle
    ankles_px = []
    for side, (ax, ay) in zip((-1, 1), pose.ankles, strict=True):
        hip = np.array(frame.px(side * HIP_JOINT_X, HIP_Y))
        knee = np.array(frame.px((side * HIP_JOINT_X + ax) / 2 + side * 0.004, KNEE_Y - (ANKLE_Y - ay) * 0.5))
        ankle = np.array(frame.px(ax, ay))
        painter.fill(_limb(hip, knee, 0.05 * u, 0.032 * u), legwear, LEGS)
        painter.fill(_limb(knee, ankle, 0.032 * u, 0.021 * u), legwear, LEGS)
        ankles_px.append(ankle)

    # garment: body pieces split torso/legs at the hip line, then jackets (torso)
    body_pieces, over_pieces = _garment_polygons(look, frame)
    hip_row = int(np.clip(round(frame.px(0, HIP_Y)[1]), 0, image.shape[0]))
    for piece in body_pieces:
        mask = np.zeros(image.shape[:2], np.uint8)
        cv2.fillPoly(mask, [piece], 1)
        painter.garment[mask > 0] = 255
        painter.labels[:hip_row][mask[:hip_row] > 0] = TORSO
        painter.labels[hip_row:][mask[hip_row:] > 0] = LEGS
    for piece in over_pieces:
        cv2.fillPoly(painter.garment, [piece], 255)
        cv2.fillPoly(painter.labels, [piece], TORSO)

    # arms: sleeves are fabric, bare parts are skin; both are torso
    arms = [_arm_points(frame, side, angles) for side, angles in zip((-1, 1), pose.arms, strict=True)]
    sleeve_polys, bare_polys = [], []
    for shoulder, elbow, wrist in arms:
        upper = _limb(shoulder, elbow, 0.028 * u, 0.021 * u)
        fore = _limb(elbow, wrist, 0.021 * u, 0.016 * u)
        covered = {"long": 2, "short": 1, "none": 0}[look.sleeves]
        sleeve_polys += [upper, fore][:covered]
        bare_polys += [upper, fore][covered:]
    for polygon in sleeve_polys:
        cv2.fillPoly(painter.garment, [polygon], 255)
        cv2.fillPoly(painter.labels, [polygon], TORSO)

    _composite_fabric(image, painter.garment, look, frame)
    for polygon in bare_polys:  # after the fabric, so a bare arm in front of the dress stays skin
        painter.fill(polygon, look.skin, TORSO)
    edge = tuple(int(c * 0.55) for c in look.colours[0])
    for polygon in body_pieces + over_pieces + sleeve_polys:
        cv2.polylines(image, [polygon], True, edge, 1)
    if look.garment == "suit":  # braid trim on the jacket's edge and front
        trim = tuple(int(c) for c in look.colours[2]) if look.colours[0] != look.colours[2] else (24, 22, 24)
        cv2.polylines(image, over_pieces, True, trim, max(1, int(round(0.009 * u))))
        cv2.line(image, tuple(frame.poly([(0.0, SHOULDER_Y + 0.035)])[0]), tuple(frame.poly([(0.0, HIP_Y + 0.035)])[0]), trim, 1)
    for _, _, wrist in arms:
        painter.ellipse(wrist, (0.02 * u, 0.022 * u), look.skin, TORSO)

    # feet
    for ankle in ankles_px:
        _shoe(painter, look.feet, ankle[0], ankle[1], u, look)

    # neck, hair, head, face, headwear
    painter.fill(frame.poly([(-0.021, NECK_TOP), (0.021, NECK_TOP), (0.023, SHOULDER_Y + 0.01), (-0.023, SHOULDER_Y + 0.01)]), look.skin, HEAD)
    head = frame.px(0.0, HEAD_CY)
    if look.hair_style == 2:  # long hair falls behind the shoulders
        painter.fill(frame.poly([(-0.05, 0.04), (0.05, 0.04), (0.06, 0.2), (-0.06, 0.2)]), look.hair, HEAD)
    painter.ellipse(head, (HEAD_RX * u, HEAD_RY * u), look.skin, HEAD)
    painter.ellipse((head[0], head[1] - 0.016 * u), (HEAD_RX * u * 1.1, HEAD_RY * u * 0.85), look.hair, HEAD, start=180, end=360)
    if look.hair_style == 1:
        painter.ellipse((head[0], head[1] - HEAD_RY * u * 1.05), (0.024 * u, 0.02 * u), look.hair, HEAD)
    for side in (-1, 1):
        cv2.circle(image, (int(head[0] + side * 0.016 * u), int(head[1])), max(1, int(0.005 * u)), (30, 24, 22), -1)
    cv2.ellipse(image, (int(head[0]), int(head[1] + 0.03 * u)), (max(1, int(0.011 * u)), max(1, int(0.004 * u))), 0, 0, 360,
                (150, 60, 64), -1)
    _headwear(painter, look, frame)
    return painter.labels


def _composite_fabric(image: np.ndarray, garment: np.ndarray, look: Look, frame: _Frame) -> None:
    """Fill the garment mask with the pattern, shaded like a cylinder around the body axis."""
    ys, xs = np.nonzero(garment)
    if ys.size == 0:
        return
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    u = frame.pose.height
    axis = frame.pose.cx - x0
    fabric = _pattern(look, (y1 - y0, x1 - x0), u, axis)
    distance = (np.arange(x0, x1, dtype=np.float32) - frame.pose.cx) / (0.2 * u)
    shading = np.clip(1.0 - 0.25 * distance**2, 0.7, 1.0)[None, :, None]
    fabric = np.clip(fabric * shading, 0, 255).astype(np.uint8)
    inside = garment[y0:y1, x0:x1] > 0
    image[y0:y1, x0:x1][inside] = fabric[inside]
