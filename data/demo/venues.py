"""The demo's show venues: backdrop, stage geometry, audience rows and lighting.

A venue is drawn fresh for every photo (camera height, runway position, audience members and
lighting vary), so a venue is recognisable by its colours, decor and geometry, never by identical
pixels. `render_backdrop` draws the empty venue; `apply_lighting` is applied to the composed photo,
figure included, so backdrop and figure are lit alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Venue:
    name: str
    slug: str
    city: str  # fictional
    wall_top: RGB
    wall_bottom: RGB
    floor: RGB
    runway: RGB  # colour of the runway strip or stage top
    stage: str  # runway (strip to a vanishing point) | floor (flat floor) | stage (raised platform)
    decor: str  # spots | concrete | panels | frames | mirrors | foliage | plain | marble | neon
    horizon: float  # wall/floor boundary, as a fraction of the height
    audience_rows: int
    audience: tuple[RGB, ...]  # clothing colours of the audience
    tint: tuple[float, float, float]  # light colour, multiplies R, G, B
    spotlight: float  # 0 even light; 1 a dark room with one spot on the model

    def table_row(self) -> dict:
        return {
            "venue": self.name,
            "slug": self.slug,
            "city": self.city,
            "wall": [list(self.wall_top), list(self.wall_bottom)],
            "floor": list(self.floor),
            "stage": self.stage,
            "decor": self.decor,
            "audience_rows": self.audience_rows,
            "tint": list(self.tint),
            "spotlight": self.spotlight,
        }


_DARK_CROWD = ((20, 20, 24), (40, 40, 46), (60, 58, 62), (30, 30, 50))
_MIXED_CROWD = ((30, 30, 34), (120, 30, 40), (200, 196, 186), (60, 80, 120), (150, 120, 80))
_LIGHT_CROWD = ((230, 228, 222), (180, 180, 186), (40, 40, 44), (200, 170, 150))

VENUES: tuple[Venue, ...] = (
    Venue("Black Box", "black-box", "Vellmora", (14, 14, 18), (30, 30, 36), (18, 18, 22), (58, 58, 64),
          "runway", "spots", 0.60, 2, _DARK_CROWD, (0.95, 0.98, 1.08), 0.75),
    Venue("Concrete Hall", "concrete-hall", "Grauhafen", (128, 126, 122), (104, 102, 98), (86, 84, 82), (150, 148, 144),
          "floor", "concrete", 0.64, 3, _DARK_CROWD, (0.97, 1.0, 1.04), 0.25),
    Venue("Steel Gallery", "steel-gallery", "Kaltmere", (86, 100, 118), (60, 72, 88), (44, 50, 60), (168, 176, 188),
          "runway", "panels", 0.58, 1, _MIXED_CROWD, (0.9, 1.0, 1.12), 0.3),
    Venue("Gilded Salon", "gilded-salon", "Porto Aurelle", (112, 20, 28), (78, 14, 22), (96, 58, 32), (150, 24, 36),
          "runway", "frames", 0.62, 2, _MIXED_CROWD, (1.12, 1.0, 0.84), 0.35),
    Venue("Mirror Hall", "mirror-hall", "Porto Aurelle", (214, 206, 190), (176, 166, 150), (190, 180, 166), (226, 220, 208),
          "stage", "mirrors", 0.66, 3, _MIXED_CROWD, (1.08, 1.02, 0.9), 0.1),
    Venue("Winter Garden", "winter-garden", "Lindorra", (196, 222, 214), (150, 186, 160), (168, 100, 70), (200, 190, 170),
          "floor", "foliage", 0.63, 2, _MIXED_CROWD, (1.04, 1.04, 0.94), 0.0),
    Venue("White Cube", "white-cube", "Marelune", (244, 244, 242), (226, 226, 224), (210, 210, 208), (250, 250, 250),
          "runway", "plain", 0.62, 2, _LIGHT_CROWD, (1.0, 1.0, 1.0), 0.0),
    Venue("Marble Atrium", "marble-atrium", "Marelune", (232, 224, 208), (206, 196, 178), (220, 212, 196), (236, 230, 218),
          "stage", "marble", 0.65, 3, _LIGHT_CROWD, (1.04, 1.0, 0.94), 0.1),
    Venue("Neon Warehouse", "neon-warehouse", "Grauhafen", (58, 34, 40), (36, 24, 30), (26, 24, 30), (44, 40, 52),
          "runway", "neon", 0.6, 2, _DARK_CROWD, (1.08, 0.9, 1.1), 0.45),
)

VENUES_BY_SLUG: dict[str, Venue] = {venue.slug: venue for venue in VENUES}

_SKIN = np.array([(255, 224, 196), (234, 192, 160), (198, 134, 96), (141, 85, 54), (92, 58, 40)], dtype=np.float32)


@dataclass(frozen=True)
class Layout:
    """Where a photo's camera puts the venue: horizon row and the runway's vanishing point."""

    horizon_y: int
    vanish_x: float


def sample_layout(venue: Venue, width: int, height: int, rng: np.random.Generator) -> Layout:
    horizon = venue.horizon + rng.uniform(-0.04, 0.04)
    return Layout(horizon_y=int(round(horizon * height)), vanish_x=width * (0.5 + rng.uniform(-0.08, 0.08)))


def skin_tone(rng: np.random.Generator) -> RGB:
    """A skin tone drawn uniformly along a light-to-deep ramp (never a house cue)."""
    position = rng.uniform(0, len(_SKIN) - 1)
    low = int(np.floor(position))
    high = min(low + 1, len(_SKIN) - 1)
    colour = _SKIN[low] * (1 - (position - low)) + _SKIN[high] * (position - low)
    return tuple(int(v) for v in colour)


def _vertical_gradient(top: RGB, bottom: RGB, rows: int, width: int) -> np.ndarray:
    t = np.linspace(0.0, 1.0, max(rows, 1), dtype=np.float32)[:, None, None]
    column = np.asarray(top, np.float32) * (1 - t) + np.asarray(bottom, np.float32) * t
    return np.broadcast_to(column, (max(rows, 1), width, 3))


def _jitter(colour: RGB, rng: np.random.Generator, amount: float = 10.0) -> RGB:
    return tuple(int(min(max(c + d, 0.0), 255.0)) for c, d in zip(colour, rng.uniform(-amount, amount, size=3), strict=True))


def _cloud(shape: tuple[int, int], rng: np.random.Generator, cell: int = 12) -> np.ndarray:
    """Smooth noise in [-1, 1]: a coarse random grid upsampled (concrete, marble, foliage light)."""
    h, w = shape
    coarse = rng.uniform(-1, 1, size=(max(2, h // cell + 2), max(2, w // cell + 2))).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)


def _decor(wall: np.ndarray, venue: Venue, rng: np.random.Generator) -> None:
    """Draw the venue's decor on the wall area in place."""
    h, w = wall.shape[:2]
    if h < 4:
        return
    if venue.decor == "spots":
        for _ in range(rng.integers(2, 5)):
            cx, cy = rng.uniform(0, w), rng.uniform(0.05, 0.5) * h
            radius = rng.uniform(0.12, 0.3) * w
            yy, xx = np.ogrid[:h, :w]
            glow = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2)).astype(np.float32)
            wall += glow[..., None] * np.float32(rng.uniform(40, 90))
    elif venue.decor == "concrete":
        wall += _cloud((h, w), rng, 10)[..., None] * 14
        for x in np.arange(rng.uniform(0, w / 3), w, w / 3):
            cv2.rectangle(wall, (int(x), 0), (int(x + w * 0.07), h), _jitter((90, 88, 86), rng), -1)
        step = max(6, w // 9)
        for y in range(step // 2, h, step):
            for x in range(step // 2, w, step):
                cv2.circle(wall, (x, y), 1, (70, 68, 66), -1)
    elif venue.decor == "panels":
        offset = rng.uniform(0, w / 5)
        for x in np.arange(offset, w, w / 5):
            cv2.line(wall, (int(x), 0), (int(x), h), (150, 164, 180), 1)
            cv2.line(wall, (int(x) + 1, 0), (int(x) + 1, h), (40, 48, 60), 1)
        cv2.line(wall, (0, int(h * 0.45)), (w, int(h * 0.45)), (120, 134, 150), 1)
    elif venue.decor == "frames":
        gold = (196, 156, 60)
        frame_w = w / rng.uniform(3.2, 4.2)
        top = rng.uniform(0.15, 0.3) * h
        for x in np.arange(rng.uniform(-frame_w / 2, 0), w, frame_w * 1.3):
            cv2.rectangle(wall, (int(x), int(top)), (int(x + frame_w), int(top + 0.45 * h)), gold, 2)
            cv2.rectangle(wall, (int(x + 4), int(top + 4)), (int(x + frame_w - 4), int(top + 0.45 * h - 4)), (150, 112, 40), 1)
        cv2.ellipse(wall, (int(rng.uniform(0.3, 0.7) * w), int(0.06 * h)), (int(0.12 * w), int(0.05 * h)), 0, 0, 360, (230, 200, 120), -1)
    elif venue.decor == "mirrors":
        panel = w / 4
        for x in np.arange(rng.uniform(-panel / 2, 0), w, panel):
            cv2.rectangle(wall, (int(x + 3), int(0.06 * h)), (int(x + panel - 3), h), (228, 228, 226), -1)
            cv2.rectangle(wall, (int(x + 3), int(0.06 * h)), (int(x + panel - 3), h), (200, 164, 80), 2)
            shift = rng.uniform(0.2, 0.6) * panel
            streak = np.array([[x + shift, 0.06 * h], [x + shift + 8, 0.06 * h], [x + shift - 10, h], [x + shift - 18, h]], np.int32)
            cv2.fillPoly(wall, [streak], (246, 246, 246))
    elif venue.decor == "foliage":
        for x in np.arange(rng.uniform(0, w / 4), w, w / 4):
            cv2.line(wall, (int(x), 0), (int(x), h), (236, 240, 238), 2)
        cv2.line(wall, (0, int(0.3 * h)), (w, int(0.3 * h)), (236, 240, 238), 2)
        greens = ((46, 110, 52), (70, 140, 60), (30, 84, 44), (96, 150, 70))
        for _ in range(rng.integers(14, 24)):
            centre = (int(rng.uniform(0, w)), int(rng.uniform(0.45, 1.0) * h))
            axes = (int(rng.uniform(0.05, 0.14) * w), int(rng.uniform(0.05, 0.12) * h))
            cv2.ellipse(wall, centre, axes, rng.uniform(0, 180), 0, 360, greens[rng.integers(len(greens))], -1)
    elif venue.decor == "marble":
        wall += _cloud((h, w), rng, 16)[..., None] * 8
        for _ in range(rng.integers(5, 9)):
            points = np.cumsum(rng.normal(0, [w / 10, h / 10], size=(6, 2)), axis=0) + [rng.uniform(0, w), rng.uniform(0, h)]
            cv2.polylines(wall, [points.astype(np.int32)], False, (168, 160, 150), 1, cv2.LINE_AA)
        for x in (rng.uniform(0.02, 0.12) * w, rng.uniform(0.78, 0.88) * w):
            cv2.rectangle(wall, (int(x), 0), (int(x + 0.1 * w), h), (240, 234, 222), -1)
            cv2.line(wall, (int(x + 0.1 * w), 0), (int(x + 0.1 * w), h), (186, 178, 164), 2)
    elif venue.decor == "neon":
        brick = max(4, h // 14)
        for row, y in enumerate(range(0, h, brick)):
            cv2.line(wall, (0, y), (w, y), (30, 20, 24), 1)
            for x in range(((row % 2) * brick), w, brick * 2):
                cv2.line(wall, (x, y), (x, y + brick), (30, 20, 24), 1)
        glow = np.zeros_like(wall)
        for colour in ((255, 60, 200), (60, 230, 255)):
            y = int(rng.uniform(0.15, 0.7) * h)
            cv2.line(glow, (0, y), (w, y + int(rng.uniform(-0.1, 0.1) * h)), colour, 3)
        wall += cv2.GaussianBlur(glow, (0, 0), 3) * 1.5 + glow * 0.5
    # plain: a clean wall


def _runway_half_width(y: float, layout: Layout, height: int, width: int) -> float:
    depth = (y - layout.horizon_y) / max(height - layout.horizon_y, 1)
    return width * (0.03 + 0.36 * depth)


def _draw_person(image: np.ndarray, x: float, y: float, size: float, venue: Venue, rng: np.random.Generator) -> None:
    """A seated audience member: shoulders and a head, `size` pixels tall."""
    clothes = _jitter(venue.audience[rng.integers(len(venue.audience))], rng, 12)
    cv2.ellipse(image, (int(x), int(y)), (max(1, int(size * 0.42)), max(1, int(size * 0.45))), 0, 180, 360, clothes, -1)
    cv2.circle(image, (int(x), int(y - size * 0.62)), max(1, int(size * 0.22)), skin_tone(rng), -1)


def _audience(image: np.ndarray, venue: Venue, layout: Layout, rng: np.random.Generator) -> None:
    height, width = image.shape[:2]
    rows = venue.audience_rows
    if rows == 0:
        return
    if venue.stage == "runway":
        # rows on both sides of the runway, larger as they come closer to the camera
        for k in range(rows):
            depth = 0.2 + 0.6 * (k + 0.5) / rows
            y = layout.horizon_y + depth * (height - layout.horizon_y)
            size = height * (0.03 + 0.09 * depth)
            edge = _runway_half_width(y, layout, height, width) + size * 0.6
            for side in (-1, 1):
                x = layout.vanish_x + side * (edge + rng.uniform(0, size))
                while -size < x < width + size:
                    _draw_person(image, x, y, size, venue, rng)
                    x += side * size * rng.uniform(0.9, 1.3)
    else:
        # rows along the back wall, behind the model
        for k in range(rows):
            y = layout.horizon_y + (k + 0.6) * height * 0.035
            size = height * (0.035 + 0.008 * k)
            x = rng.uniform(-size, 0)
            while x < width + size:
                _draw_person(image, x, y, size, venue, rng)
                x += size * rng.uniform(0.9, 1.25)


def render_backdrop(venue: Venue, layout: Layout, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """The empty venue as an RGB uint8 image (height, width, 3)."""
    image = np.empty((height, width, 3), np.float32)
    hy = int(np.clip(layout.horizon_y, 1, height - 1))
    image[:hy] = _vertical_gradient(_jitter(venue.wall_top, rng), _jitter(venue.wall_bottom, rng), hy, width)
    _decor(image[:hy], venue, rng)
    floor_far = np.asarray(venue.floor, np.float32) * 0.85
    image[hy:] = _vertical_gradient(tuple(floor_far), _jitter(venue.floor, rng), height - hy, width)
    if venue.stage == "runway":
        ys = np.array([hy, height])
        half = [_runway_half_width(y, layout, height, width) for y in ys]
        strip = np.array([[layout.vanish_x - half[0], hy], [layout.vanish_x + half[0], hy],
                          [layout.vanish_x + half[1], height], [layout.vanish_x - half[1], height]], np.int32)
        cv2.fillPoly(image, [strip], _jitter(venue.runway, rng, 6))
        cv2.polylines(image, [strip], True, tuple(0.7 * c for c in venue.runway), 1)
    elif venue.stage == "stage":
        lip = int(height * 0.955)
        image[hy:lip] = _vertical_gradient(tuple(np.asarray(venue.runway) * 0.9), venue.runway, lip - hy, width)
        image[lip:] = np.asarray(venue.runway, np.float32) * 0.55
    _audience(image, venue, layout, rng)
    return np.clip(image, 0, 255).astype(np.uint8)


def draw_shadow(image: np.ndarray, cx: float, feet_y: float, figure_height: float) -> None:
    """A soft contact shadow under the model's feet, in place (part of the backdrop, not of the figure)."""
    shade = np.ones(image.shape[:2], np.float32)
    for scale, strength in ((1.0, 0.88), (0.75, 0.82 * 0.88), (0.5, 0.75 * 0.82 * 0.88)):
        axes = (max(1, int(0.14 * figure_height * scale)), max(1, int(0.022 * figure_height * scale)))
        cv2.ellipse(shade, (int(cx), int(feet_y)), axes, 0, 0, 360, strength, -1)
    rows = slice(max(0, int(feet_y - 0.03 * figure_height)), int(feet_y + 0.03 * figure_height) + 2)
    image[rows] = (image[rows] * shade[rows, :, None]).astype(np.uint8)


def apply_lighting(image: np.ndarray, venue: Venue, focus: tuple[float, float], spread: float, exposure: float) -> np.ndarray:
    """Colour tint, exposure and (for dark venues) a spotlight centred on `focus`; returns uint8."""
    height, width = image.shape[:2]
    gain = np.full((height, width), exposure, np.float32)
    if venue.spotlight > 0:
        yy, xx = np.ogrid[:height, :width]
        spot = np.exp(-((xx - focus[0]) ** 2 / (2 * (0.6 * spread) ** 2) + (yy - focus[1]) ** 2 / (2 * spread**2)))
        gain *= (1 - venue.spotlight) + venue.spotlight * (0.35 + 0.75 * spot.astype(np.float32))
    lit = image.astype(np.float32) * gain[..., None] * np.asarray(venue.tint, np.float32)
    return np.clip(lit, 0, 255).astype(np.uint8)
