"""The one configuration object of Runway Lens.

Every default the pipeline uses lives here, grouped by stage. Code takes a `Settings`
(usually `get_settings()`) instead of reading module-level constants, so a test or a CLI
flag can change a value in one place.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

WORKSPACE_ENV = "RUNWAY_LENS_WORKSPACE"

# The thesis's six houses (section 3.2), in the order of its confusion matrices (tables 3.1/3.3).
THESIS_BRANDS = ("Rick Owens", "Dries Van Noten", "Versace", "Louis Vuitton", "Chanel", "Giorgio Armani")

# The thesis's runway CSV columns (figure 3.1), in order. Scraper, importers and demo all write these first.
RUNWAY_CSV_COLUMNS = (
    "collection_url",
    "image_url",
    "image_alt",
    "image_name",
    "image_path",
    "image_size",
    "image_width",
    "image_height",
    "image_format",
    "image_mode",
    "brand",
)
# Extra columns that follow the thesis's eleven.
RUNWAY_CSV_EXTRA_COLUMNS = ("season", "year", "city", "show_type", "sha256", "scraped_at")


@dataclass(frozen=True)
class Paths:
    """The workspace layout: every generated file lives under `root`."""

    root: Path

    @property
    def assets(self) -> Path:
        return self.root / "assets"

    @property
    def vgg16_weights(self) -> Path:
        return self.assets / "vgg16_imagenet_notop.weights.h5"

    @property
    def u2net_home(self) -> Path:
        return self.assets / "u2net"

    @property
    def downloads(self) -> Path:
        return self.assets / "downloads"

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def feature_cache(self) -> Path:
        return self.cache / "features"

    @property
    def rembg_cache(self) -> Path:
        return self.cache / "rembg"

    @property
    def demo(self) -> Path:
        return self.root / "demo"

    @property
    def scrapes(self) -> Path:
        return self.root / "scrapes"

    def run_dir(self, run_name: str) -> Path:
        return self.runs / run_name


@dataclass(frozen=True)
class ModelSettings:
    """Thesis chapter 3 defaults for the network and its training."""

    image_size: int = 224
    num_classes: int = 6
    attention_filters: int = 64  # Conv2D(64, 3x3) on block4_conv3: matches the thesis's parameter counts
    dense_units: int = 512
    dropout: float = 0.2
    rotation_radians: float = 0.1  # thesis 3.3.3: "up to 0.1 radians"
    translation_pixels: int = 20  # thesis 3.3.3: horizontal shift "by up to 20"
    learning_rate: float = 1e-3
    lr_drop_epoch: int = 100  # thesis 3.5: rate drops by 10% after epoch 100
    lr_drop_factor: float = 0.9
    batch_size: int = 64
    epochs: int = 100
    preprocess: str = "thesis"  # "thesis": /255; "vgg": VGG's mean-centred BGR
    seed: int = 42


@dataclass(frozen=True)
class DataSettings:
    """Dataset preparation defaults (thesis 3.2 and 3.3.1)."""

    brands: tuple[str, ...] = THESIS_BRANDS
    top_n: int = 6
    test_fraction: float = 0.2  # 80/20 train/test
    val_fraction: float = 0.1  # validation slice taken from train
    split: str = "random"  # or "collection"
    seed: int = 42
    rembg_model: str = "u2netp"
    # White: runway photos are shot against mostly light sets and white reads as "no background"
    # for the VGG features; black would be confused with dark garments.
    background_fill: str = "white"
    rembg_workers: int = 2


@dataclass(frozen=True)
class ScrapeSettings:
    """Politeness defaults for the crawler."""

    user_agent: str = "RunwayLens/0.1 (+https://github.com/runway-lens; contact: runway-lens@example.org)"
    delay_seconds: float = 1.0
    timeout_seconds: float = 20.0
    max_retries: int = 4
    backoff_seconds: float = 1.0
    image_concurrency: int = 4


@dataclass(frozen=True)
class UploadSettings:
    """Limits for photos analysed in the dashboard."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 60_000_000  # larger is treated as a decompression bomb
    min_side: int = 32


@dataclass(frozen=True)
class Settings:
    paths: Paths
    model: ModelSettings = field(default_factory=ModelSettings)
    data: DataSettings = field(default_factory=DataSettings)
    scrape: ScrapeSettings = field(default_factory=ScrapeSettings)
    upload: UploadSettings = field(default_factory=UploadSettings)

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


def workspace_root(environ: dict | None = None) -> Path:
    """`$RUNWAY_LENS_WORKSPACE`, or `./workspace` under the current directory."""
    env = os.environ if environ is None else environ
    value = env.get(WORKSPACE_ENV)
    return Path(value).expanduser().resolve() if value else (Path.cwd() / "workspace").resolve()


def get_settings(workspace: str | os.PathLike | None = None) -> Settings:
    """The settings for a workspace (default: from the environment)."""
    root = Path(workspace).expanduser().resolve() if workspace else workspace_root()
    return Settings(paths=Paths(root=root))
