"""A brand's self-contained report: one HTML file (and a PDF through headless Chromium, if installed).

    python -m dashboard.report --run demo-raw --brand "Rick Owens" [--out report.html] [--pdf]

The file holds everything inline, so it can be mailed or archived and opens offline: photos and
heat maps as base64 PNG, charts as Plotly figures with plotly.js embedded once. Sections: the
distinctiveness index (and the random vs by-collection comparison when computed), the confusion
row, the attention heat maps (attention/sums.npz), the body-zone profile (metrics.json
`attention.body_zones`), identity over time (when `drift` was run), example photos with their
attention, and the method notes. The dashboard's Brand page calls `build_report` for its download
button; this module never imports Streamlit.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from PIL import Image

from analysis.brand import AnalyticsError, distinctiveness
from analysis.brand.runfolder import RunData, current_section, load_run
from core.config import Settings, get_settings
from core.contract import RunFolder
from core.fileio import atomic_path, write_text_atomic
from core.images import ImageError, load_rgb
from dashboard.figures import brand as figures

REPORTS_DIR = "reports"
PDF_TIMEOUT_SECONDS = 180

METHOD_NOTES = (
    ("Model", "VGG16 pretrained on ImageNet with its 13 convolution layers frozen, a spatial attention branch on "
     "block4_conv3 (a softmax over the 28×28 grid that re-weights the features), block5, global max pooling, "
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

CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1100px;
       color: #222; line-height: 1.45; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2.2rem; }
.meta { color: #666; } .muted { color: #777; font-size: 0.9rem; }
.headline { display: flex; gap: 2rem; align-items: baseline; flex-wrap: wrap; }
.index-value { font-size: 3.2rem; font-weight: 700; color: #d62728; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.92rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
pre.formula { white-space: pre-wrap; background: #f6f6f6; padding: 0.8rem; border-radius: 4px; font-size: 0.88rem; }
.gallery { display: flex; flex-wrap: wrap; gap: 1rem; }
figure { margin: 0; max-width: 340px; } figure img { max-width: 100%; border: 1px solid #ddd; }
figure.look { max-width: 420px; } figure.look img { max-width: 49%; }
figcaption { font-size: 0.85rem; color: #444; }
.figure { page-break-inside: avoid; break-inside: avoid; }
dt { font-weight: 600; margin-top: 0.6rem; } dd { margin-left: 0; white-space: pre-wrap; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; } }
"""


def png_data_uri(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _esc(value) -> str:
    return html.escape("" if value is None else str(value))


def _number(value, digits: int = 2) -> str:
    return "–" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.{digits}f}"


class _Figures:
    """Plotly figures as HTML fragments; plotly.js is inlined with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def html(self, fig: go.Figure, name: str) -> str:
        fragment = fig.to_html(
            full_html=False,
            include_plotlyjs="inline" if self.count == 0 else False,
            div_id=f"figure-{name}",
            config={"displaylogo": False, "responsive": True},
        )
        self.count += 1
        return f'<div class="figure" data-figure="{_esc(name)}">{fragment}</div>'


def resolve_brand(brand: str, class_names: list[str]) -> str:
    """The run's spelling of `brand` (any case or slug)."""
    from data.brands import brand_key

    for name in class_names:
        if name == brand or name.lower() == brand.strip().lower() or brand_key(name) == brand_key(brand):
            return name
    raise AnalyticsError(f"brand {brand!r} is not one of this run's houses: {', '.join(class_names)}")


# --------------------------------------------------------------------------- sections


def index_section(run: RunData, brand: str, settings: Settings, figs: _Figures) -> str:
    section = current_section(run.directory, "index")
    origin = "from brand_analytics.json"
    if section is None:
        if run.embeddings is None:
            return "<h2>Distinctiveness index</h2><p>This run has no embeddings.npy, so no index can be computed.</p>"
        section = distinctiveness.compute_for_run(run, settings)
        origin = "computed for this report"
    table = pd.DataFrame(section["brands"])
    row = table.set_index("brand").loc[brand]
    parts = [
        ("Recall", row["recall"], row.get("recall_low"), row.get("recall_high")),
        ("F1", row["f1"], row.get("f1_low"), row.get("f1_high")),
        ("Precision", row["precision"], None, None),
        ("Silhouette (−1…1)", row["silhouette"], row.get("silhouette_low"), row.get("silhouette_high")),
        ("Margin d/(d+r)", row["margin"], None, None),
        (f"Distance to nearest centroid ({_esc(row['nearest_brand'])})", row["centroid_distance"], None, None),
        ("Spread r of its own looks", row["spread"], None, None),
    ]
    rows = "".join(
        f"<tr><td>{label}</td><td>{_number(value, 3)}</td>"
        f"<td>{'' if low is None else f'{_number(low, 3)}–{_number(high, 3)}'}</td></tr>"
        for label, value, low, high in parts
    )
    confused = row["most_confused_with"]
    confused_text = (
        f"Most often mistaken for <b>{_esc(confused)}</b> ({row['confused_share']:.0%} of its test looks)."
        if isinstance(confused, str) else "Never mistaken for another house on this test set."
    )
    out = [
        "<h2 id='index'>Distinctiveness index</h2>",
        "<div class='headline'>",
        f"<div><div class='index-value' id='index-value'>{_number(row['index'], 1)}</div>"
        f"<div class='muted'>out of 100 · 95% CI {_number(row['index_low'], 1)}–{_number(row['index_high'], 1)}</div></div>",
        f"<div><p>{confused_text}</p><p class='muted'>{int(row['support'])} test looks · "
        f"{_esc(section.get('split') or 'unknown')} split · {origin}</p></div>",
        "</div>",
        f"<table id='index-parts'><tr><th>part</th><th>value</th><th>95% CI</th></tr>{rows}</table>",
        figs.html(figures.index_figure(table, highlight=brand), "index"),
    ]
    comparison = current_section(run.directory, "split_comparison")
    if comparison and comparison.get("brands"):
        frame = pd.DataFrame(comparison["brands"])
        mine = frame.set_index("brand").loc[brand] if brand in set(frame["brand"]) else None
        if mine is not None:
            out.append(
                f"<p>Random split ({_esc(comparison['random_run'])}): {_number(mine['index_random'], 1)}; "
                f"by-collection split ({_esc(comparison['collection_run'])}): {_number(mine['index_collection'], 1)}; "
                f"the random split flatters {_esc(brand)} by <b>{_number(mine['flattery'], 1)}</b> points.</p>"
            )
        out.append(figs.html(figures.index_figure(table, comparison=frame), "split-comparison"))
    out.append(f"<pre class='formula' id='formula'>{_esc(section.get('formula') or distinctiveness.INDEX_FORMULA)}</pre>")
    return "\n".join(out)


def confusion_row(run: RunData, brand: str) -> pd.Series:
    """The brand's row of confusion.csv (else recounted from predictions.csv)."""
    path = RunFolder(run.directory).confusion
    if path.is_file():
        matrix = pd.read_csv(path, index_col=0)
        if brand in matrix.index:
            return matrix.loc[brand].astype(int)
    mine = run.predictions[run.predictions["brand"] == brand]["predicted"]
    return mine.value_counts().reindex(run.class_names, fill_value=0).astype(int)


def confusion_section(run: RunData, brand: str, figs: _Figures) -> str:
    row = confusion_row(run, brand)
    total = int(row.sum())
    cells = "".join(
        f"<tr><td>{_esc(name)}</td><td>{int(count)}</td><td>{(count / total if total else 0):.0%}</td></tr>"
        for name, count in row.items()
    )
    return "\n".join(
        [
            "<h2 id='confusion'>Confusion row</h2>",
            f"<p>{total} test looks of {_esc(brand)}, by predicted house.</p>",
            f"<table id='confusion-row'><tr><th>predicted</th><th>looks</th><th>share</th></tr>{cells}</table>",
            figs.html(figures.confusion_row_figure(row, brand), "confusion"),
        ]
    )


def _heat_image(heat: np.ndarray, log_scale: bool) -> Image.Image:
    from model.maps import colorize, normalise

    heat = np.asarray(heat, dtype=np.float64)
    if log_scale:
        heat = np.log10(np.clip(heat, max(heat.max(), 1e-30) * 1e-6, None))
    return Image.fromarray(colorize(normalise(heat), "inferno")).resize((256, 256), Image.Resampling.BILINEAR)


def heatmap_section(run: RunData, brand: str) -> str:
    path = RunFolder(run.directory).attention_sums
    title = "<h2 id='heatmaps'>Attention heat maps</h2>"
    if not path.is_file():
        return f"{title}<p>This run has no attention/sums.npz (run `python -m model evaluate --run {_esc(run.name)}`).</p>"
    with np.load(path, allow_pickle=False) as sums:
        names = [str(n) for n in sums["class_names"]] if "class_names" in sums.files else run.class_names
        if brand not in names:
            return f"{title}<p>attention/sums.npz has no maps for {_esc(brand)}.</p>"
        c = names.index(brand)
        panels = []
        for key, count_key, label in (
            ("by_true_upsampled", "count_by_true", "looks of the brand"),
            ("by_pred_upsampled", "count_by_pred", "looks predicted as the brand"),
        ):
            count = int(sums[count_key][c]) if count_key in sums.files else 0
            if key not in sums.files or count == 0:
                continue
            mean = sums[key][c] / count
            for log_scale in (False, True):
                scale = "log scale" if log_scale else "linear"
                panels.append(
                    f"<figure><img class='heatmap' alt='{_esc(label)} ({scale})' src='{png_data_uri(_heat_image(mean, log_scale))}'>"
                    f"<figcaption>Mean attention over the {count} {_esc(label)} ({scale})</figcaption></figure>"
                )
    if not panels:
        return f"{title}<p>No test look of {_esc(brand)} was evaluated.</p>"
    return f"{title}<div class='gallery'>{''.join(panels)}</div>"


def body_zone_section(run: RunData, brand: str, figs: _Figures) -> str:
    title = "<h2 id='body-zones'>Body-zone profile</h2>"
    zones = (run.metrics.get("attention") or {}).get("body_zones") or {}
    per_zone = (zones.get("per_brand") or {}).get(brand) or {}
    rows = [
        {"zone": zone, **{k: stat.get(k) for k in ("mean", "ci_low", "ci_high", "n")}}
        for zone, stat in per_zone.items()
        if isinstance(stat, dict) and stat.get("mean") is not None
    ]
    if not rows:
        return f"{title}<p>No body-zone profile for this run yet: `python -m analysis attention --run {_esc(run.name)}` measures it.</p>"
    profile = pd.DataFrame(rows).astype({"mean": float, "ci_low": float, "ci_high": float})
    overall = zones.get("mean") or {}

    def share(value) -> str:
        return "–" if value is None else f"{value:.1%}"

    cells = "".join(
        f"<tr><td>{_esc(r.zone)}</td><td>{share(r.mean)}</td><td>{share(r.ci_low)}–{share(r.ci_high)}</td>"
        f"<td>{share(overall.get(r.zone))}</td></tr>"
        for r in profile.itertuples()
    )
    return "\n".join(
        [
            title,
            f"<table id='body-zone-table'><tr><th>zone</th><th>{_esc(brand)}</th><th>95% CI</th><th>all brands</th></tr>{cells}</table>",
            figs.html(figures.body_zone_figure(profile, brand), "body-zones"),
        ]
    )


def drift_section(run: RunData, brand: str, figs: _Figures) -> str:
    section = current_section(run.directory, "drift")
    if not section or not section.get("table"):
        return ""
    table = pd.DataFrame(section["table"])
    if brand not in set(table["brand"]):
        return ""
    return "\n".join(
        [
            "<h2 id='drift'>Identity over time</h2>",
            f"<p class='muted'>{_esc(section.get('definition'))}</p>",
            figs.html(figures.drift_figure(table, highlight=brand), "drift"),
        ]
    )


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


def examples_section(run: RunData, brand: str, settings: Settings) -> str:
    from model.maps import overlay

    title = "<h2 id='examples'>Example photos</h2>"
    chosen = example_looks(run, brand, settings.analytics.report_examples)
    maps_path = RunFolder(run.directory).attention_maps
    maps = np.load(maps_path, mmap_mode="r") if maps_path.is_file() else None
    if maps is not None and len(maps) != len(run.predictions):
        maps = None  # not aligned with predictions.csv: show photos without their attention
    side = settings.analytics.report_thumbnail_px
    cards, unreadable = [], []
    for look in chosen.itertuples():
        try:
            photo = load_rgb(look.path)
        except ImageError as exc:
            unreadable.append(str(exc))
            continue
        photo.thumbnail((side, side))
        verdict = "recognised" if look.predicted == brand else f"taken for {_esc(look.predicted)}"
        confidence = f", p = {look.confidence:.2f}" if np.isfinite(look.confidence) else ""
        caption = f"{_esc(Path(str(look.path)).name)}: {verdict}{confidence}"
        images = f"<img class='example' alt='{_esc(Path(str(look.path)).name)}' src='{png_data_uri(photo)}'>"
        if maps is not None:
            heat = overlay(photo, np.asarray(maps[look.row], dtype=np.float32), opacity=0.5, colormap="inferno")
            images += f"<img class='example-attention' alt='attention' src='{png_data_uri(heat)}'>"
        cards.append(f"<figure class='look'>{images}<figcaption>{caption}</figcaption></figure>")
    notes = f"<p class='muted'>{len(unreadable)} photo(s) could not be read: {_esc('; '.join(unreadable[:3]))}</p>" if unreadable else ""
    if not cards:
        return f"{title}<p>No photo of {_esc(brand)} could be shown.</p>{notes}"
    return f"{title}<div class='gallery'>{''.join(cards)}</div>{notes}"


def notes_section() -> str:
    items = "".join(f"<dt>{_esc(term)}</dt><dd>{_esc(text)}</dd>" for term, text in METHOD_NOTES)
    return f"<h2 id='method'>Method notes</h2><dl>{items}</dl>"


# --------------------------------------------------------------------------- the report


def render_report(data: RunData, brand: str, settings: Settings) -> str:
    """The report's HTML for a loaded run and one of its houses (spelled as the run spells it)."""
    figs = _Figures()
    variant = data.config.get("variant") or "unknown"
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [
        f"<h1>{_esc(brand)}</h1>",
        f"<p class='meta'>Runway Lens brand report · run <b>{_esc(data.name)}</b> ({_esc(variant)}) · "
        f"{len(data.predictions)} test looks · generated {generated}</p>",
        index_section(data, brand, settings, figs),
        confusion_section(data, brand, figs),
        heatmap_section(data, brand),
        body_zone_section(data, brand, figs),
        drift_section(data, brand, figs),
        examples_section(data, brand, settings),
        notes_section(),
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{_esc(brand)} · Runway Lens report</title><style>{CSS}</style></head>\n"
        f"<body>\n{chr(10).join(part for part in body if part)}\n</body></html>\n"
    )


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
    except (AnalyticsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
