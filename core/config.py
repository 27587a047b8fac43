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


def setting(default, help: str, *, choices: tuple | None = None, flag: str | None = None, cli: bool = True,
            resume: bool = True, command: str | None = None, minimum: float | None = None, above: float | None = None):
    """A settings field with what its command-line option needs: `core.cli` turns each field into an option
    (`--field-name`, or `flag` where the documented name differs), so a new field is one line here.
    `command` names the one subcommand that shows it, where a section serves several (`python -m data`);
    `resume=False` marks what a resumed training run may change (epochs, patience, evaluation batch);
    `minimum`/`above` bound a number, and a text setting is never blank."""
    return field(default=default, metadata={"help": help, "choices": choices, "flag": flag, "cli": cli,
                                            "resume": resume, "command": command, "minimum": minimum, "above": above})


# The networks `model.network` builds; the first is the default (docs/MODEL.md "Choosing the architecture").
ARCHITECTURES = ("attention-pool", "thesis")


@dataclass(frozen=True)
class ModelSettings:
    """Thesis chapter 3 defaults for the network and its training; every field is an option of `python -m model train`."""

    architecture: str = setting(ARCHITECTURES[0], "attention-pool: the recommended network; thesis: chapter 3's, exactly",
                                choices=ARCHITECTURES)
    image_size: int = setting(224, "input side in px")
    num_classes: int = setting(6, "classes of `python -m model summary` (training takes them from the data)", cli=False)
    # Conv2D(64, 3x3) on block4_conv3: matches the thesis's parameter counts
    attention_filters: int = setting(64, "filters of the attention branch's 3x3 convolution")
    dense_units: int = setting(512, "units of the dense layer before the softmax")
    dropout: float = setting(0.2, "dropout before the softmax")
    rotation_radians: float = setting(0.1, "augmentation: random rotation up to this many radians (thesis 3.3.3)")
    translation_pixels: int = setting(20, "augmentation: horizontal shift up to this many px at 224 (thesis 3.3.3)")
    learning_rate: float = setting(1e-3, "Adam learning rate")
    lr_drop_epoch: int = setting(100, "the rate drops after this epoch (thesis 3.5)")
    lr_drop_factor: float = setting(0.9, "factor of that drop (thesis 3.5: -10%)")
    batch_size: int = setting(64, "batch size")
    epochs: int = setting(100, "epochs", resume=False)
    preprocess: str = setting("thesis", "thesis: /255; vgg: VGG16's mean-centred BGR", choices=("thesis", "vgg"))
    seed: int = setting(42, "random seed")
    # The thesis resized with keras' load_img(target_size=...), whose default filter is nearest.
    resize_filter: str = setting("nearest", "resize filter",
                                 choices=("nearest", "bilinear", "bicubic", "lanczos", "box"))
    # Options beyond the thesis (off by default, so the default run is the thesis's).
    early_stopping_patience: int = setting(0, "stop after this many epochs without val_loss improvement; 0 = off",
                                           flag="--early-stopping", resume=False)
    reduce_lr_patience: int = setting(0, "ReduceLROnPlateau on val_loss after this many flat epochs; 0 = off",
                                      flag="--reduce-lr-on-plateau", resume=False)
    reduce_lr_factor: float = setting(0.5, "factor of ReduceLROnPlateau", resume=False)
    class_weights: str = setting("none", "weight the loss by inverse class frequency (scikit-learn's 'balanced')",
                                 choices=("none", "balanced"))
    # Fast path: cache the frozen block1-4 outputs and train attention + block5 + head from the cache.
    fast_path: str = setting("auto", "train from cached block4 features; auto = on without a GPU",
                             choices=("auto", "on", "off"))
    augment_copies: int = setting(0, "fast path: augmented copies cached per photo besides the original")
    # A mirrored block4 map is not the map of the mirrored photo (VGG filters are not mirror-symmetric): off by default.
    feature_flip: bool = setting(False, "fast path: random horizontal flips of cached feature maps")
    feature_cache_dtype: str = setting("float32", "fast path: stored feature precision (float16: ~1e-3 relative error)",
                                       choices=("float32", "float16"), flag="--cache-dtype")
    eval_batch_size: int = setting(32, "batch size of evaluation and analysis passes", cli=False, resume=False)
    # TensorFlow's op determinism: the same data, settings and seed give the same weights on the same machine.
    deterministic: bool = setting(True, "reproducible training (TensorFlow op determinism; costs some speed)",
                                  resume=False)


@dataclass(frozen=True)
class DataSettings:
    """Dataset preparation defaults (thesis 3.2 and 3.3.1); `command` says which `python -m data` command shows each."""

    # Which brands to keep is a request (`prepare --brands` or `--top`); this is the preferred order.
    brands: tuple[str, ...] = setting(THESIS_BRANDS, "brands in the thesis's confusion-matrix order", cli=False)
    # `prepare --top N` asks for N explicitly; this is the N used when the thesis six are not all present.
    top_n: int = setting(6, "brands kept when neither --brands nor --top is given", cli=False)
    test_fraction: float = setting(0.2, "share of photos in the test split (thesis: 80/20)", command="prepare")
    val_fraction: float = setting(0.1, "share of the train split kept for validation", command="prepare")
    split: str = setting("random", "random: stratified by brand; collection: no show in two splits",
                         choices=("random", "collection"), command="prepare")
    seed: int = setting(42, "random seed of the split", command="prepare")
    allow_incomplete: bool = setting(False, "prepare even when the split leaves a brand without test photos",
                                     command="prepare")
    max_per_brand: int = setting(0, "keep at most N photos per brand; 0 = every photo", command="prepare")
    check_threads: int = setting(4, "threads hashing and decoding photos (decoding releases the GIL)",
                                 command="prepare")
    # u2netp ships with the workspace assets (offline); the others only where rembg can download them.
    rembg_models: tuple[str, ...] = setting(("u2netp", "u2net", "u2net_human_seg", "isnet-general-use",
                                             "birefnet-general"), "rembg models offered", cli=False)
    rembg_model: str = setting("u2netp", "rembg model", command="remove-background", flag="--model",
                               choices=("u2netp", "u2net", "u2net_human_seg", "isnet-general-use", "birefnet-general"))
    # White: runway photos are shot against mostly light sets and white reads as "no background"
    # for the VGG features; black would be confused with dark garments.
    background_fill: str = setting("white", "white|black|gray|#hex colour behind the cut-out figure",
                                   command="remove-background", flag="--fill")
    rembg_workers: int = setting(2, "rembg processes", command="remove-background", flag="--workers")


@dataclass(frozen=True)
class ScrapeSettings:
    """Politeness defaults for the crawler."""

    user_agent: str = setting("RunwayLens/0.1 (+https://github.com/runway-lens; contact: runway-lens@example.org)",
                              "User-Agent header (name the tool and a contact)")
    delay_seconds: float = setting(1.0, "seconds between requests to one host (Crawl-delay wins if longer)",
                                   flag="--delay", minimum=0)
    timeout_seconds: float = setting(20.0, "seconds before a request times out", flag="--timeout", above=0)
    max_retries: int = setting(4, "retries after a timeout, 429 or 5xx", flag="--retries", minimum=0)
    backoff_seconds: float = setting(1.0, "first retry wait in seconds, doubled each retry", flag="--backoff", minimum=0)
    image_concurrency: int = setting(4, "photo downloads at once", flag="--concurrency", minimum=1)
    max_backoff_seconds: float = setting(60.0, "cap on the exponential backoff between retries", minimum=0)
    max_retry_after_seconds: float = setting(300.0, "a longer Retry-After gives up instead of stalling the crawl",
                                             minimum=0)
    max_image_bytes: int = setting(50 * 1024 * 1024, "larger downloads are refused", minimum=1)
    max_name_length: int = setting(120, "characters per sanitised file or folder name", minimum=16)


@dataclass(frozen=True)
class UploadSettings:
    """Limits for photos analysed in the dashboard."""

    max_bytes: int = 25 * 1024 * 1024
    max_pixels: int = 60_000_000  # larger is treated as a decompression bomb
    min_side: int = 32


@dataclass(frozen=True)
class DemoSettings:
    """Defaults of the demo runway generator (`python -m data demo`, docs/DEMO.md)."""

    houses: int = setting(6, "how many of the six fictional houses")
    per_house: int = setting(100, "photos per house")
    width: int = setting(192, "photo width in px (portrait, like runway photos)")
    height: int = setting(288, "photo height in px")
    background_informativeness: float = setting(
        0.7, "probability that a collection is shown at one of its house's preferred venues rather than at a venue "
             "drawn uniformly from all (0..1)")
    seasonal_drift: float = setting(
        0.3, "how far each house's palette and pattern drift from the first to the last year (0 none .. 1 full)")
    signature_strength: float = setting(
        0.75, "probability that a look shows each of its house's cues (fabric, cut, headwear, shoes) rather than a "
              "basic one shared by all houses (0..1)")
    first_year: int = setting(2015, "first collection year")
    last_year: int = setting(2020, "last collection year")
    seed: int = setting(42, "random seed")
    workers: int = setting(2, "processes drawing photos (this machine's two cores)")


@dataclass(frozen=True)
class AnalyticsSettings:
    """Brand analytics defaults (`python -m analysis`, docs/BRAND_ANALYTICS.md)."""

    bootstrap_resamples: int = setting(1000, "stratified by true brand, for the recall/F1/index CIs", command="index", flag="--resamples")
    confidence_level: float = setting(0.95, "confidence level of the intervals", command="index")
    seed: int = setting(42, "random seed of the bootstrap", command="index")
    knn_k: int = setting(5, "similar looks shown by default", command="similar", flag="-k")
    knn_max_k: int = setting(50, "most similar looks the dashboard offers", cli=False)
    ensemble_weight_step: float = setting(0.05, "grid of the learned raw-model weight w in [0, 1]", cli=False)
    drift_min_looks: int = setting(2, "a brand-year with fewer test looks gets no drift value", command="drift")
    drift_null_draws: int = setting(200, "random same-size subsets of the brand: the drift expected from sampling alone", command="drift")
    report_examples: int = setting(4, "example photos in the exported report", cli=False)
    report_thumbnail_px: int = setting(320, "longest side of an inlined photo", cli=False)
    chromium: str = setting("chromium", "binary for the report's PDF (`--print-to-pdf`) and the browser test", cli=False)


@dataclass(frozen=True)
class AttentionSettings:
    """Attention analytics defaults (`python -m analysis attention`, docs/ATTENTION.md)."""

    # Body zones of a real photo from its figure mask's vertical extent, top to bottom:
    # head, torso, legs, feet. Drillis & Contini (1966): chin at 0.870 of stature (head 13%);
    # the feet band is widened from the ankle's 0.039 to 10% to hold the shoe, which the mask includes.
    zone_proportions: tuple[float, float, float, float] = setting((0.13, 0.32, 0.45, 0.10),
                                                                  "head, torso, legs, feet shares of the figure's height")
    inside_threshold: float = setting(0.5, "a map cell is 'on the figure' when at least half of it is figure")
    bootstrap_resamples: int = setting(1000, "percentile bootstrap of the per-brand means")
    confidence_level: float = setting(0.95, "confidence level of the intervals")
    seed: int = setting(42, "random seed of the bootstrap and the samples")
    chunk_size: int = setting(256, "images per streamed chunk of maps and masks")
    gradcam_layer: str = setting("block5_conv3", "layer Grad-CAM reads")
    gradcam_batch_size: int = setting(16, "photos per Grad-CAM batch")
    topk_percent: float = setting(10.0, "top-k% overlap between Grad-CAM and the attention map")
    sanity_images: int = setting(32, "images the randomisation check recomputes maps for")
    sanity_threshold: float = setting(0.5, "maps count as changed when their mean Spearman falls below this")
    blur_sigma_fraction: float = setting(0.04, "Gaussian sigma of the 'blurred' background, in image widths")
    swap_candidates: int = setting(5, "donor venues tried per photo; the one its figure hides best wins")
    inpaint_radius: int = setting(5, "px, cv2.inpaint's neighbourhood when the donor's figure is erased")
    mask_dilation_fraction: float = setting(0.03, "grow the donor's mask before inpainting, in image widths")


# Attribution methods `python -m analysis identity` can score (docs/IDENTITY.md); occlusion runs once per fill.
IDENTITY_METHODS = ("attention", "gradcam", "occlusion", "swap")
OCCLUSION_FILLS = ("mean", "inpaint", "colour")


@dataclass(frozen=True)
class IdentitySettings:
    """Where a house's identity lives (`python -m analysis identity`, docs/IDENTITY.md)."""

    truth: bool = setting(True, "on a demo run: score the counterfactual truth and every method's faithfulness; "
                                "--no-truth: only the profile by the headline method, as on real photos")
    methods: tuple[str, ...] = setting(IDENTITY_METHODS,
                                       "attribution methods to score: attention, gradcam, occlusion, swap")
    occlusion_fills: tuple[str, ...] = setting(
        ("inpaint",), "what replaces a zone: inpaint (cv2.inpaint of the zone), mean (the training photos' mean "
                      "image), colour (the background-removal fill); inpaint needs nothing but the photo, as the "
                      "dashboard's what-if does; mean matched the demo's truth about as often (docs/IDENTITY.md); "
                      f"any of {', '.join(OCCLUSION_FILLS)}")
    headline_method: str = setting(
        "auto", "method behind the profile: auto = the most faithful on a demo run, else the one a demo run chose "
                "(--reference-run), else swap; or e.g. occlusion:inpaint, gradcam")
    reference_run: str = setting("", "demo run whose identity.json names the method for real data; "
                                     "empty: the most recent demo run that has one, of the same variant if any")
    zone_source: str = setting("bands", "bands: cut the figure mask into AttentionSettings.zone_proportions, as on "
                                        "every real photo, so the demo checks each method with the zones it gets "
                                        "there; exact: the generator's zone masks where a photo has them",
                               choices=("bands", "exact"))
    target: str = setting("brand", "whose evidence a photo is scored for: its true brand, or the predicted one",
                          choices=("brand", "predicted"))
    max_per_house: int = setting(0, "at most N test photos per house; 0 = all", minimum=0)
    bootstrap_resamples: int = setting(1000, "percentile bootstrap of the per-house means", minimum=1)
    confidence_level: float = setting(0.95, "confidence level of the intervals", above=0)
    seed: int = setting(42, "random seed of the samples and the bootstrap")
    batch_size: int = setting(32, "photos per model pass")
    swap_donors: int = setting(2, "zone swap: donor photos per photo, from other houses and from the rival each",
                               minimum=1)
    mean_image_photos: int = setting(256, "training photos averaged into the mean-image fill", cli=False)


ENGINES = ("local", "ray")


@dataclass(frozen=True)
class EngineSettings:
    """Where the heavy per-photo stages run (docs/SCALE.md): this machine's processes, or Ray actors that each
    keep one loaded model. The outputs are byte-identical either way."""

    engine: str = setting(ENGINES[0], "local: this machine's processes; ray: Ray actors, one loaded model each "
                          "(pip install -r requirements-cluster.txt)", choices=ENGINES)
    engine_address: str = setting("", "a Ray cluster's address (host:6379, or ray://host:10001); "
                                  "without it, --engine ray starts a local Ray instance")
    connect_timeout: float = setting(10.0, "seconds allowed to reach a Ray cluster before giving up", above=0)
    task_retries: int = setting(3, "times a task is retried on a fresh worker when its worker dies", minimum=0)
    workers: int = setting(0, "workers for feature caching and the analytics' model passes; 0: one, in this "
                           "process, locally, and one per CPU core on Ray (background removal has --workers)",
                           flag="--engine-workers", minimum=0)


@dataclass(frozen=True)
class PipelineSettings:
    """The demo pipeline (`make run`, `python -m pipeline demo`): which dataset it builds and what it adds."""

    dataset: str = "demo"  # dataset name; runs are <dataset>-raw, <dataset>-nobg, <dataset>-ensemble
    collection_split_run: bool = True  # also train raw on a by-collection split, for the distinctiveness index
    analysis_max_images: int = 0  # Grad-CAM / background reliance on a brand-stratified sample; 0 = every test photo


# Named overrides of `Settings` for `make run PROFILE=...`: section -> field -> value; the rest are the defaults.
# "demo" fits `make run` in the 10-minute budget on 2 CPU cores; "thesis" is chapter 3's settings.
PROFILES: dict[str, dict[str, dict]] = {
    # docs/MODEL.md "Demo size": 96 px beat 128 px at this scale
    "demo": {"model": {"image_size": 96, "epochs": 20}, "pipeline": {"analysis_max_images": 60},
             "identity": {"max_per_house": 10}},
    "thesis": {"model": {"architecture": "thesis"}, "demo": {"per_house": 170, "width": 480, "height": 720},
               "pipeline": {"dataset": "demo-thesis"}},
}


@dataclass(frozen=True)
class Settings:
    paths: Paths
    model: ModelSettings = field(default_factory=ModelSettings)
    data: DataSettings = field(default_factory=DataSettings)
    scrape: ScrapeSettings = field(default_factory=ScrapeSettings)
    upload: UploadSettings = field(default_factory=UploadSettings)
    demo: DemoSettings = field(default_factory=DemoSettings)
    analytics: AnalyticsSettings = field(default_factory=AnalyticsSettings)
    attention: AttentionSettings = field(default_factory=AttentionSettings)
    identity: IdentitySettings = field(default_factory=IdentitySettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)

    def with_overrides(self, overrides: dict[str, dict]) -> Settings:
        """These settings with `{section: {field: value}}` applied (a profile, or a test's tweaks)."""
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)} - {"paths"})
        if unknown:
            raise ValueError(f"unknown settings section(s): {', '.join(unknown)}")
        return self.replace(**{section: dataclasses.replace(getattr(self, section), **values)
                               for section, values in overrides.items()})


def profile_settings(name: str, settings: Settings | None = None) -> Settings:
    """The settings of a named profile (`PROFILES`)."""
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of: {', '.join(sorted(PROFILES))}")
    return (settings or get_settings()).with_overrides(PROFILES[name])


def workspace_root(environ: dict | None = None) -> Path:
    """`$RUNWAY_LENS_WORKSPACE`, or `./workspace` under the current directory."""
    env = os.environ if environ is None else environ
    value = env.get(WORKSPACE_ENV)
    return Path(value).expanduser().resolve() if value else (Path.cwd() / "workspace").resolve()


def get_settings(workspace: str | os.PathLike | None = None) -> Settings:
    """The settings for a workspace (default: from the environment)."""
    root = Path(workspace).expanduser().resolve() if workspace else workspace_root()
    return Settings(paths=Paths(root=root))
