"""A brand's self-contained report: one HTML file (and a PDF through headless Chromium, if installed).

    python -m dashboard.report --run demo-raw --brand "Rick Owens" [--out report.html] [--pdf]

The file holds everything inline, so it can be mailed or archived and opens offline: photos and
heat maps as base64 PNG, charts as Plotly figures with plotly.js embedded once. Sections: the
distinctiveness index (and the random vs by-collection comparison when computed), the confusion
row, the attention heat maps (attention/sums.npz), the body-zone profile (metrics.json
`attention.body_zones`), the identity profile and what tells the brand from its rival (identity.json, when
`python -m analysis identity` was run), identity over time (when `drift` was run), example photos with their
attention, and the method notes. The dashboard's Brand page calls `build_report` for its download
button; this module never imports Streamlit.

The HTML comes from the Jinja template templates/report.html.j2, with autoescaping on: the Python
side only reads the run (the `read_*` functions and `load_run`) and turns what it read into plain
values (the `*_context` functions); the template escapes every one of them, so brand, run and file
names cannot inject markup. Only the Plotly fragments and plotly.js are marked safe.
"""

from __future__ import annotations

import argparse
import base64
import functools
import io
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from markupsafe import Markup
from PIL import Image
from plotly.offline import get_plotlyjs

from analysis.brand import AnalyticsError, distinctiveness
from analysis.brand.runfolder import RunData, current_section, load_run
from core.config import Settings, get_settings
from core.contract import ContractError, RunConfig
from core.evidence import accuracy_text, test_set_warning
from core.fileio import atomic_path, write_text_atomic
from core.images import ImageError, load_rgb
from dashboard import figures as shared_figures
from dashboard.figures import attention as attention_figures
from dashboard.figures import brand as figures
from dashboard.figures import identity as identity_figures

log = logging.getLogger(__name__)

REPORTS_DIR = "reports"
PDF_TIMEOUT_SECONDS = 180

TEMPLATES_DIR = Path(__file__).with_name("templates")
TEMPLATE = "report.html.j2"

# No modebar: the report is read and printed, not explored, and Plotly's toolbar would otherwise be printed
# over every chart of the PDF. Hover labels and drag-to-zoom still work without it.
FIGURE_CONFIG = {"displaylogo": False, "displayModeBar": False, "responsive": True}

# The model note names the run's attention grid ({grid}); `method_notes` fills it in.
METHOD_NOTES = (
    ("Model", "VGG16 pretrained on ImageNet with its 13 convolution layers frozen, a spatial attention branch on "
     "block4_conv3 (a softmax over its {grid}, which re-weights the features), block5, global max pooling, "
     "Dense-512 and a softmax over the houses (thesis chapter 3). The run was trained on photos with or without "
     "their background (variant shown above) and evaluated on its held-out test split."),
    ("Distinctiveness index", distinctiveness.INDEX_FORMULA),
    ("Random vs by-collection split", "A random split puts looks of the same show in training and test, so the "
     "model can recognise a show rather than a house. A by-collection split keeps every show on one side. The gap "
     "between the two indexes (\"flattery\") is how much the random split overstates the brand."),
    ("Confusion row", "Where the brand's test looks went: the row of the confusion matrix (true brand) over the "
     "predicted brands."),
    ("Attention heat maps", "The attention maps of the brand's test looks, summed and divided by their number "
     "(attention/sums.npz), upsampled bilinearly to the model's input size. The logarithmic view (as in the "
     "thesis's figures 3.8 and 3.9) brings out cells with little but non-zero attention. Bright = more attention."),
    ("Body-zone profile", "The share of the attention falling on the head, torso, legs and feet, averaged over the "
     "brand's looks with a bootstrap 95% CI (`python -m analysis attention`, docs/ATTENTION.md): exact zones for the "
     "demo's generated photos, bands of the figure mask's height for real photos."),
    ("Identity over time", "Per year: the model's accuracy on the brand's looks, and the cosine distance between "
     "the centroid of that year's embeddings and the brand's all-years centroid (0 = the year looks like the "
     "brand overall)."),
    ("Limits", "Test sets are small: read the confidence intervals before comparing brands. Attention shows where "
     "the model looked, not why; a high index says the model can tell the house apart on these photos, not that "
     "its identity is strong in any broader sense."),
)


def attention_grid_text(config: RunConfig | None) -> str:
    """The run's attention grid as the notes state it: block4_conv3's side is the input's / 8 (three 2×2 poolings),
    28×28 at 224 px, 12×12 at the demo profile's 96 px. config.json records it (`attention_grid`); older runs
    only their `image_size`."""
    grid = config.get("attention_grid") if config is not None else None
    size = config.image_size if config is not None else None
    side = int(grid) if grid else (int(size) // 8 if size else None)
    if not side:
        return "grid"
    return f"{side}×{side} grid" + (f" at this run's {int(size)} px input" if size else "")


def method_notes(config: RunConfig | None) -> tuple[tuple[str, str], ...]:
    """METHOD_NOTES with the run's own attention grid in the model note."""
    grid = attention_grid_text(config)
    return tuple((term, text.replace("{grid}", grid)) for term, text in METHOD_NOTES)


# --------------------------------------------------------------------------- values as the report shows them


def png_data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def number_text(value, digits: int = 2) -> str:
    return "–" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.{digits}f}"


def share_text(value) -> str:
    return "–" if value is None else f"{value:.1%}"


def figure_context(fig: go.Figure, name: str) -> dict:
    """A chart as the template places it; plotly.js itself is embedded once, by the template."""
    fragment = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"figure-{name}", config=FIGURE_CONFIG)
    return {"name": name, "html": Markup(fragment)}  # Plotly's own markup; it escapes the data it embeds


def heat_image(heat: np.ndarray, log_scale: bool) -> Image.Image:
    from model.maps import colorize, normalise

    heat = np.asarray(heat, dtype=np.float64)
    if log_scale:
        heat = np.log10(np.clip(heat, max(heat.max(), 1e-30) * 1e-6, None))
    return Image.fromarray(colorize(normalise(heat), "inferno")).resize((256, 256), Image.Resampling.BILINEAR)


# --------------------------------------------------------------------------- reading the run


def resolve_brand(brand: str, class_names: list[str]) -> str:
    """The run's spelling of `brand` (any case or slug)."""
    from data.brands import brand_key

    for name in class_names:
        if name == brand or name.lower() == brand.strip().lower() or brand_key(name) == brand_key(brand):
            return name
    raise AnalyticsError(f"brand {brand!r} is not one of this run's houses: {', '.join(class_names)}")


def analytics_section(run: RunData, name: str) -> tuple[dict | None, str]:
    """A current section of brand_analytics.json (None when absent or stale) and, when the file is damaged, the
    contract's message: a damaged file costs the sections it holds, not the report."""
    try:
        return current_section(run.directory, name), ""
    except ContractError as exc:
        log.warning("%s", exc)
        return None, str(exc)


def read_index(run: RunData, settings: Settings) -> tuple[dict | None, str]:
    """The run's index section and where it came from; (None, "") when there are no embeddings to compute it."""
    section, problem = analytics_section(run, "index")
    if section is not None:
        return section, "from brand_analytics.json"
    if run.embeddings is None:
        return None, ""
    origin = f"computed for this report ({problem})" if problem else "computed for this report"
    return distinctiveness.compute_for_run(run, settings), origin


def confusion_row(run: RunData, brand: str) -> tuple[pd.Series, str]:
    """The brand's row of confusion.csv, read through the contract; else recounted from predictions.csv, with the
    contract's message when confusion.csv is damaged."""
    problem = ""
    if run.folder.confusion.is_file():
        try:
            matrix = run.folder.read_confusion()
        except ContractError as exc:
            log.warning("%s", exc)
            problem = f"{exc}; the row below is recounted from predictions.csv"
        else:
            if brand in matrix.index:
                return matrix.loc[brand].astype(int), ""
    mine = run.predictions[run.predictions["brand"] == brand]["predicted"]
    return mine.value_counts().reindex(run.class_names, fill_value=0).astype(int), problem


def read_attention_sums(run: RunData) -> tuple[dict[str, np.ndarray] | None, str]:
    """attention/sums.npz through the contract (None when the run was evaluated without it) and, when it is
    damaged, the contract's message: a damaged file costs its section, not the report."""
    if not run.folder.attention_sums.is_file():
        return None, ""
    try:
        return run.folder.read_attention_sums(), ""
    except ContractError as exc:
        return None, str(exc)


def example_looks(run: RunData, brand: str, count: int) -> pd.DataFrame:
    """The brand's most confidently recognised looks, then its most confident mistakes."""
    frame = run.predictions.reset_index(drop=True)
    frame = frame.assign(row=frame.index)
    mine = frame[frame["brand"] == brand]
    if run.probabilities is not None:
        confidence = run.probabilities.max(axis=1)
        mine = mine.assign(confidence=confidence[mine["row"].to_numpy()])
    else:
        mine = mine.assign(confidence=np.nan)
    right = mine[mine["predicted"] == brand].sort_values("confidence", ascending=False)
    wrong = mine[mine["predicted"] != brand].sort_values("confidence", ascending=False)
    n_wrong = min(len(wrong), count // 2)
    return pd.concat([right.head(count - n_wrong), wrong.head(n_wrong)])


@dataclass(frozen=True)
class ExamplePhoto:
    """One example look, read and shrunk, with its attention map when the run kept the maps."""

    name: str
    predicted: str
    confidence: float
    photo: Image.Image
    attention: np.ndarray | None


def read_attention_maps(run: RunData) -> tuple[np.ndarray | None, str]:
    """attention/maps.npy through the contract, checked to hold one (h, w) map per prediction (None when the run
    has none) and, when it is damaged or misaligned, the contract's message: the photos are shown without it."""
    if not run.folder.attention_maps.is_file():
        return None, ""
    try:
        return run.folder.read_attention_maps(rows=len(run.predictions)), ""
    except ContractError as exc:
        log.warning("%s", exc)
        return None, f"{exc}; the photos are shown without their attention"


def read_example_photos(run: RunData, brand: str, settings: Settings) -> tuple[list[ExamplePhoto], list[str], str]:
    """The example looks' photos, why those that could not be read failed, and why their attention is not shown."""
    maps, maps_problem = read_attention_maps(run)
    side = settings.analytics.report_thumbnail_px
    photos, unreadable = [], []
    for look in example_looks(run, brand, settings.analytics.report_examples).itertuples():
        try:
            photo = load_rgb(look.path)
        except ImageError as exc:
            unreadable.append(str(exc))
            continue
        photo.thumbnail((side, side))
        attention = None if maps is None else np.asarray(maps[look.row], dtype=np.float32)
        photos.append(ExamplePhoto(Path(str(look.path)).name, look.predicted, look.confidence, photo, attention))
    return photos, unreadable, maps_problem


# --------------------------------------------------------------------------- section contexts


def index_parts(row: pd.Series) -> list[dict]:
    """The index's components, each with its 95% CI where the bootstrap gives one."""
    parts = [
        ("Recall", row["recall"], row.get("recall_low"), row.get("recall_high")),
        ("F1", row["f1"], row.get("f1_low"), row.get("f1_high")),
        ("Precision", row["precision"], None, None),
        ("Silhouette (−1…1)", row["silhouette"], row.get("silhouette_low"), row.get("silhouette_high")),
        ("Margin d/(d+r)", row["margin"], None, None),
        (f"Distance to nearest centroid ({row['nearest_brand']})", row["centroid_distance"], None, None),
        ("Spread r of its own looks", row["spread"], None, None),
    ]
    return [
        {
            "label": label,
            "value": number_text(value, 3),
            "ci": "" if low is None else f"{number_text(low, 3)}–{number_text(high, 3)}",
        }
        for label, value, low, high in parts
    ]


def split_comparison_context(comparison: dict | None, table: pd.DataFrame, brand: str) -> tuple[dict | None, dict | None]:
    """The brand's random vs by-collection line (if the brand was compared) and the comparison chart."""
    if not comparison or not comparison.get("brands"):
        return None, None
    frame = pd.DataFrame(comparison["brands"])
    figure = figure_context(figures.index_figure(table, comparison=frame), "split-comparison")
    if brand not in set(frame["brand"]):
        return None, figure
    mine = frame.set_index("brand").loc[brand]
    line = {
        "random_run": comparison["random_run"],
        "collection_run": comparison["collection_run"],
        "index_random": number_text(mine["index_random"], 1),
        "index_collection": number_text(mine["index_collection"], 1),
        "flattery": number_text(mine["flattery"], 1),
    }
    return line, figure


def index_context(section: dict | None, origin: str, comparison: dict | None, brand: str) -> dict:
    if section is None:
        return {"message": "This run has no embeddings.npy, so no index can be computed."}
    table = pd.DataFrame(section["brands"])
    row = table.set_index("brand").loc[brand]
    confused = row["most_confused_with"]
    comparison_line, comparison_figure = split_comparison_context(comparison, table, brand)
    return {
        "message": None,
        "value": number_text(row["index"], 1),
        "low": number_text(row["index_low"], 1),
        "high": number_text(row["index_high"], 1),
        "confused_with": confused if isinstance(confused, str) else None,  # NaN when never mistaken
        "confused_share": f"{row['confused_share']:.0%}" if isinstance(confused, str) else None,
        "support": int(row["support"]),
        "split": section.get("split") or "unknown",
        "origin": origin,
        "parts": index_parts(row),
        "figure": figure_context(figures.index_figure(table, highlight=brand), "index"),
        "comparison": comparison_line,
        "comparison_figure": comparison_figure,
        "formula": section.get("formula") or distinctiveness.INDEX_FORMULA,
    }


def confusion_context(row: pd.Series, problem: str, brand: str) -> dict:
    total = int(row.sum())
    return {
        "problem": problem or None,
        "total": total,
        "recall": accuracy_text(row.get(brand, 0) / total, total) if total else "– (no test looks)",
        "rows": [
            {"house": house, "looks": int(count), "share": f"{(count / total if total else 0):.0%}"}
            for house, count in row.items()
        ],
        "figure": figure_context(shared_figures.confusion_row_figure(row, brand), "confusion"),
    }


def heat_panels(label: str, count: int, mean: np.ndarray) -> list[dict]:
    """The mean map on a linear and a logarithmic scale."""
    panels = []
    for log_scale in (False, True):
        scale = "log scale" if log_scale else "linear"
        panels.append({
            "alt": f"{label} ({scale})",
            "src": png_data_uri(heat_image(mean, log_scale)),
            "caption": f"Mean attention over the {count} {label} ({scale})",
        })
    return panels


def heatmap_context(sums: dict[str, np.ndarray] | None, problem: str, brand: str, class_names: list[str],
                    run_name: str) -> dict:
    if problem:
        return {"message": problem}
    if sums is None:
        return {"message": f"This run has no attention/sums.npz (run `python -m model evaluate --run {run_name}`)."}
    names = [str(n) for n in sums["class_names"]] if "class_names" in sums else class_names
    if brand not in names:
        return {"message": f"attention/sums.npz has no maps for {brand}."}
    c = names.index(brand)
    panels = []
    for key, count_key, label in (
        ("by_true_upsampled", "count_by_true", "looks of the brand"),
        ("by_pred_upsampled", "count_by_pred", "looks predicted as the brand"),
    ):
        count = int(sums[count_key][c]) if count_key in sums else 0
        if key in sums and count > 0:
            panels += heat_panels(label, count, sums[key][c] / count)
    if not panels:
        return {"message": f"No test look of {brand} was evaluated."}
    return {"message": None, "panels": panels}


def body_zone_context(metrics: dict, problem: str, brand: str, run_name: str) -> dict:
    if problem:  # metrics.json is damaged: this section is lost, not the report
        return {"message": problem}
    zones = (metrics.get("attention") or {}).get("body_zones") or {}
    per_zone = (zones.get("per_brand") or {}).get(brand) or {}
    rows = [
        {"zone": zone, **{k: stat.get(k) for k in ("mean", "ci_low", "ci_high", "n")}}
        for zone, stat in per_zone.items()
        if isinstance(stat, dict) and stat.get("mean") is not None
    ]
    if not rows:
        return {"message": f"No body-zone profile for this run yet: `python -m analysis attention --run {run_name}` measures it."}
    profile = pd.DataFrame(rows).astype({"mean": float, "ci_low": float, "ci_high": float})
    overall = zones.get("mean") or {}
    return {
        "message": None,
        "rows": [
            {
                "zone": r.zone,
                "mean": share_text(r.mean),
                "ci": f"{share_text(r.ci_low)}–{share_text(r.ci_high)}",
                "overall": share_text(overall.get(r.zone)),
            }
            for r in profile.itertuples()
        ],
        "figure": figure_context(attention_figures.body_zone_figure({"body_zones": {"per_brand": {brand: per_zone}}},
                                                                    f"{brand}: attention by body zone"), "body-zones"),
    }


def read_identity(run: RunData) -> tuple[dict, str]:
    """identity.json ({} before `python -m analysis identity` ran) and, when it is damaged, the contract's message."""
    try:
        return run.folder.read_identity(), ""
    except ContractError as exc:
        return {}, str(exc)


def zone_rows(table: pd.DataFrame) -> list[dict]:
    """Zone effects as the report's table rows: zone, effect and (on demo data) truth, each with its interval."""
    shown = identity_figures.zone_effect_rows(table)
    return [{"zone": r["zone"], "effect": r["effect [95% interval]"], "truth": r.get("truth [95% interval]")}
            for r in shown.to_dict("records")]


def rival_context(entry: dict | None, brand: str) -> dict | None:
    if not entry or not entry.get("rival"):
        return None
    table = identity_figures.effects_with_truth(entry, "twin_truth")
    return {"rival": entry["rival"], "rows": zone_rows(table), "with_truth": "truth" in table,
            "figure": figure_context(identity_figures.rival_figure(entry, brand), "identity-rival")}


def identity_context(identity: dict, problem: str, brand: str) -> dict | None:
    """None (no section) before identity.json exists; a message when it is damaged or lacks the brand."""
    if problem:
        return {"message": problem}
    if not identity:
        return None
    profile = (identity.get("profile") or {}).get(brand)
    if not profile:
        return {"message": f"identity.json has no profile for {brand}."}
    table = identity_figures.effects_with_truth(profile, "truth")
    return {
        "message": None,
        "method": identity_figures.method_sentence(identity),
        "units": profile.get("units") or "effect",
        "rows": zone_rows(table),
        "with_truth": "truth" in table,
        "figure": figure_context(identity_figures.identity_profile_figure(profile, brand), "identity-profile"),
        "rival": rival_context((identity.get("rival") or {}).get(brand), brand),
    }


def drift_context(section: dict | None, brand: str) -> dict | None:
    """None (no section at all) unless `drift` was run and covers the brand."""
    if not section or not section.get("table"):
        return None
    table = pd.DataFrame(section["table"])
    if brand not in set(table["brand"]):
        return None
    return {
        "definition": section.get("definition") or "",
        "figure": figure_context(figures.drift_figure(table, highlight=brand), "drift"),
    }


def example_card(example: ExamplePhoto, brand: str) -> dict:
    from model.maps import overlay

    verdict = "recognised" if example.predicted == brand else f"taken for {example.predicted}"
    confidence = f", p = {example.confidence:.2f}" if np.isfinite(example.confidence) else ""
    attention = None
    if example.attention is not None:
        attention = png_data_uri(overlay(example.photo, example.attention, opacity=0.5, colormap="inferno"))
    return {
        "name": example.name,
        "photo": png_data_uri(example.photo),
        "attention": attention,
        "caption": f"{example.name}: {verdict}{confidence}",
    }


def examples_context(photos: list[ExamplePhoto], unreadable: list[str], maps_problem: str, brand: str) -> dict:
    note = f"{len(unreadable)} photo(s) could not be read: {'; '.join(unreadable[:3])}" if unreadable else None
    if not photos:
        return {"message": f"No photo of {brand} could be shown.", "unreadable": note, "maps_problem": maps_problem or None}
    return {"message": None, "cards": [example_card(p, brand) for p in photos], "unreadable": note,
            "maps_problem": maps_problem or None}


# --------------------------------------------------------------------------- the report


def report_context(data: RunData, brand: str, settings: Settings, generated: datetime) -> dict:
    """Everything the template shows, for a loaded run and one of its houses (spelled as the run spells it)."""
    index, origin = read_index(data, settings)
    comparison, _ = analytics_section(data, "split_comparison")  # a damaged file is named by the index section
    drift, _ = analytics_section(data, "drift")
    return {
        "brand": brand,
        "run_name": data.name,
        "variant": data.config.get("variant") or "unknown",
        "looks": len(data.predictions),
        "generated": generated.strftime("%Y-%m-%d %H:%M UTC"),
        "test_set_warning": test_set_warning(data.metrics or {}),
        "plotly_js": Markup(get_plotlyjs()),  # inline, so the file opens offline
        "index": index_context(index, origin, comparison, brand),
        "confusion": confusion_context(*confusion_row(data, brand), brand),
        "heatmaps": heatmap_context(*read_attention_sums(data), brand, data.class_names, data.name),
        "body_zones": body_zone_context(data.metrics, data.metrics_problem, brand, data.name),
        "identity": identity_context(*read_identity(data), brand),
        "drift": drift_context(drift, brand),
        "examples": examples_context(*read_example_photos(data, brand, settings), brand),
        "notes": method_notes(data.config),
    }


@functools.cache
def report_template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(("html", "html.j2")),
        undefined=jinja2.StrictUndefined,  # a misspelt context key fails the report instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return environment.get_template(TEMPLATE)


def render_report(data: RunData, brand: str, settings: Settings) -> str:
    """The report's HTML for a loaded run and one of its houses (spelled as the run spells it)."""
    return report_template().render(report_context(data, brand, settings, datetime.now(UTC)))


def build_report(run: str | os.PathLike, brand: str, settings: Settings | None = None) -> str:
    """The report's HTML (one self-contained document) for a run name or folder and a house (any spelling)."""
    settings = settings or get_settings()
    data = load_run(run, settings)
    return render_report(data, resolve_brand(brand, data.class_names), settings)


def default_output(run_dir: Path, brand: str) -> Path:
    from data.brands import brand_key

    return run_dir / REPORTS_DIR / f"{brand_key(brand) or 'brand'}.html"


def chromium_binary(settings: Settings) -> str | None:
    return shutil.which(settings.analytics.chromium) or shutil.which("chromium") or shutil.which("chromium-browser")


def print_pdf(html_path: Path, pdf_path: Path, settings: Settings) -> Path:
    """Print the HTML to PDF with headless Chromium (its scripts run first, so the charts are drawn)."""
    binary = chromium_binary(settings)
    if binary is None:
        raise AnalyticsError(f"the PDF needs Chromium ({settings.analytics.chromium!r} not found; "
                             "Debian: apt-get install chromium); the HTML report is written")
    with atomic_path(pdf_path) as tmp, tempfile.TemporaryDirectory(prefix="runway-lens-chromium-") as profile:
        command = [
            binary, "--headless", "--disable-gpu", "--disable-background-networking", "--no-first-run",
            f"--user-data-dir={profile}", "--no-pdf-header-footer", "--virtual-time-budget=20000",
            f"--print-to-pdf={tmp}", html_path.resolve().as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to sandbox as root (containers, CI)
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=PDF_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise AnalyticsError(f"Chromium did not finish printing the PDF in {PDF_TIMEOUT_SECONDS} s") from None
        if result.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            detail = (result.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise AnalyticsError(f"Chromium could not print the PDF (exit {result.returncode}: {detail[0]})")
    return pdf_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboard.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="run name or folder")
    parser.add_argument("--brand", required=True, help="the house to report on (any spelling)")
    parser.add_argument("--out", help="HTML file to write (default: runs/<run>/reports/<brand>.html)")
    parser.add_argument("--pdf", action="store_true", help="also print a PDF beside it with headless Chromium")
    parser.add_argument("--workspace", help="workspace folder (default: $RUNWAY_LENS_WORKSPACE or ./workspace)")
    args = parser.parse_args(argv)
    settings = get_settings(args.workspace)
    try:
        data = load_run(args.run, settings)
        brand = resolve_brand(args.brand, data.class_names)
        out = Path(args.out).expanduser() if args.out else default_output(data.directory, brand)
        if out.suffix.lower() not in (".html", ".htm"):
            raise AnalyticsError(f"--out should name an .html file (got {out.name})")
        write_text_atomic(out, render_report(data, brand, settings))
        print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
        if args.pdf:
            print(f"wrote {print_pdf(out, out.with_suffix('.pdf'), settings)}")
    except (ContractError, OSError) as exc:  # ContractError covers AnalyticsError: one line, never a traceback
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
