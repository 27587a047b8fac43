"""The bad inputs the suite tries on each surface, and what each gets: the source of docs/RELIABILITY.md.

A row is a test case, in one of two ways:
- table-driven: the surface's test module parametrises over `cases(SURFACE)`, builds the bad input
  named by the case's id, asserts that the user gets `case.message`, and calls `check_covered` to
  prove it builds every row;
- a named test (`test=`): an existing test function in one of the surface's `tried_by` files, whose
  source holds the quoted message (`tests/test_reliability_doc.py` parses the files to check both).

    python tests/bad_inputs.py           # rewrite docs/RELIABILITY.md
    python tests/bad_inputs.py --check   # exit 1 when it is out of date
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "RELIABILITY.md"


@dataclass(frozen=True)
class BadInput:
    id: str  # the test id, and the key a table-driven module builds the input by
    kind: str  # what is wrong with the input, as a user would say it
    message: str  # what the user is told: a fragment the test asserts
    outcome: str = ""  # what else happens: exit code, what is kept, what still works
    test: str | None = None  # the test function that tries it, for a row that isn't table-driven
    quoted: bool = True  # False: `message` describes what the user sees rather than quoting it


@dataclass(frozen=True)
class Surface:
    title: str
    tried_by: tuple[str, ...]  # the test files that try the table, from the repository root
    how: str  # how the tests feed it the bad input, and what they assert besides the message
    cases: tuple[BadInput, ...]
    outcome: str = ""  # what else happens, for the rows that don't say
    table_test: str = ""  # the parametrised test of the table-driven rows


def _table(*rows: tuple[str, ...]) -> tuple[BadInput, ...]:
    return tuple(BadInput(*row) for row in rows)


def _named(*rows: tuple) -> tuple[BadInput, ...]:
    """Rows tried by existing tests: (test function, kind, message, outcome[, quoted])."""
    return tuple(BadInput(f"{test}:{index}", kind, message, outcome, test, *rest)
                 for index, (test, kind, message, outcome, *rest) in enumerate(rows))


SURFACES: dict[str, Surface] = {
    "upload": Surface(
        title="Upload (Analyse a photo)",
        tried_by=("tests/dashboard/test_analyse.py",),
        how="Each file is uploaded through the real page (Streamlit AppTest). The test asserts one error naming "
            "the file, no exception, no model run on it, and a good photo analysed right after.",
        outcome="one error naming the file; no model runs on it; the next photo is analysed",
        table_test="test_bad_files_get_one_message_and_the_app_stays_up",
        cases=_table(
            ("truncated.jpg", "a JPEG cut off after 400 bytes", "damaged or truncated"),
            ("corrupt.png", "a PNG whose data is zeros after the header", "damaged or truncated"),
            ("not-an-image.jpg", "a PDF renamed .jpg", "not an image"),
            ("bomb.png", "a PNG header declaring 40,000 × 40,000 pixels", "too many pixels"),
            ("big.png", "a PNG header declaring 9,000 × 9,000 pixels", "possible decompression bomb"),
            ("one-pixel.png", "a 1 × 1 image", "too small"),
            ("empty.jpg", "an empty file", "empty"),
            ("page.png", "an HTML error page saved as .png", "not an image"),
            ("truncated.webp", "a WebP cut off halfway", "damaged or truncated"),
            ("zero-size-gif.png", "a 0 × 0 GIF renamed .png (the uploader itself refuses a .gif name)", "not an image"),
        ) + _named(
            ("test_an_upload_over_the_size_limit_is_refused", "a 26 MB file", "over the 25 MB limit",
             "refused before it is decoded"),
        ),
    ),
    "scraper": Surface(
        title="The scraper against a local server",
        tried_by=("tests/scraping/test_crawl_door11.py", "tests/scraping/test_parts.py"),
        how="`python -m scraping crawl` and its fetcher run against a local HTTP server (tests/scraping/conftest.py) "
            "that serves the site's pages and misbehaves on cue. Failures are counted by reason in the crawl's "
            "summary and in failures.csv; nothing half-saved stays in runway.csv.",
        cases=_named(
            ("test_robots_txt_disallow_is_obeyed_and_reported", "robots.txt disallows a collection and a photo",
             "page:robots_disallowed", "neither is fetched; both are counted as skipped"),
            ("test_429_retry_after_is_honoured", "429 Too Many Requests with Retry-After",
             "waits as long as the server asks, then fetches", "", False),
            ("test_retry_after_beyond_the_cap_gives_up_at_once", "Retry-After longer than the cap (300 s)",
             "image:http_429", "one request, no long sleep"),
            ("test_500_then_200_is_retried", "a 500 that recovers", "retried with backoff, then saved", "", False),
            ("test_persistent_500_fails_after_the_retries", "a page that keeps answering 500", "page:http_500",
             "counted after the retries; the rest of the crawl goes on"),
            ("test_timeouts_are_retried_then_reported", "a photo that never answers", "image:timeout",
             "counted after the retries"),
            ("test_broken_photos_are_failures_not_rows", "a truncated photo, an HTML page served as a photo, a 404",
             "image:damaged_image", "each counted by reason in failures.csv; none becomes a row"),
            ("test_the_same_photo_under_two_urls_is_saved_once", "the same photo under two URLs",
             "image:duplicate_content", "saved once"),
            ("test_hostile_file_names_stay_inside_the_output_folder", "file names with ../, absolute paths, "
             "reserved names", "saved under a safe name inside the output folder", "", False),
            ("test_malformed_page_is_logged_counted_and_not_cached", "a collection page without a gallery",
             "page:malformed_page", "logged with its URL; fetched again next run"),
            ("test_half_written_row_is_dropped_and_its_photo_fetched_again", "a runway.csv whose last line was cut "
             "by a crash", "the half line is dropped and its photo fetched again", "", False),
            ("test_killed_crawl_resumes_without_duplicates", "the crawl killed (SIGKILL) mid-run",
             "the rerun resumes", "no photo or row duplicated", False),
            ("test_ctrl_c_stops_cleanly_and_the_rerun_completes", "Ctrl-C mid-crawl",
             "INTERRUPTED, rerun the same command to resume", "exit 130; the rerun completes"),
            ("test_unusable_output_folders_are_user_errors", "--out is a file", "is a file", "exit 2"),
            ("test_unusable_output_folders_are_user_errors", "--out holds someone else's runway.csv",
             "choose another --out folder", "exit 2; their file untouched"),
            ("test_bad_arguments_get_one_clear_message", "--base-url ftp://…", "not an http(s) URL", "exit 2"),
            ("test_connection_errors_are_retried", "connection refused", "connection_error", "retried, then counted"),
            ("test_a_body_broken_off_after_the_headers_is_retried", "a body broken off after the headers",
             "retried; counted when it never completes", "", False),
            ("test_oversized_downloads_are_refused", "a download over the size limit", "too_large",
             "refused without reading it all"),
            ("test_a_404_ends_the_listing", "a listing page that is a 404", "the listing ends there",
             "no failure counted", False),
        ),
    ),
    "training": Surface(
        title="Training: bad data, kill and resume",
        tried_by=("tests/model/test_training.py", "tests/model/test_data_errors.py"),
        how="`python -m model train` (and its function) on the tiny shapes dataset (tests/model/conftest.py). A refused "
            "run writes nothing; an interrupted one resumes from its last checkpoint with the same history.",
        cases=_named(
            ("test_interrupted_run_resumes_with_the_same_history", "Ctrl-C after 2 of 4 epochs",
             "the rerun trains epochs 3–4 only", "its history and losses match an uninterrupted run", False),
            ("test_interrupted_run_resumes_with_the_same_history", "resuming with another image size",
             "other settings", "refused; the checkpoints are kept"),
            ("test_killed_cli_run_resumes_from_its_last_checkpoint", "the training process killed (SIGKILL)",
             "the rerun continues from the last checkpoint", "earlier epochs' history unchanged", False),
            ("test_unknown_variant_is_refused_by_api_and_cli", "an unknown variant", "invalid choice", "exit 2"),
            ("test_missing_nobg_manifest_says_what_to_run", "the background-removed manifest is missing",
             "remove-background", "exit 1; the message says to run python -m data remove-background"),
            ("test_malformed_manifest_gets_a_clear_error", "a manifest that is binary or empty",
             "not a readable CSV manifest", "the file is named"),
            ("test_malformed_manifest_gets_a_clear_error", "a manifest without the split column",
             "lacks the column(s) split", "the file is named"),
            ("test_malformed_manifest_gets_a_clear_error", "a row without a brand",
             "empty 'brand' in 1 row(s), first at data row 1", "the file is named"),
            ("test_malformed_manifest_gets_a_clear_error", "an unknown split value",
             "unknown split value(s) ['training']", "the file is named"),
            ("test_missing_image_names_the_file_and_trains_nothing", "a photo deleted after prepare",
             "1 of 72 image(s) are missing", "nothing written for the refused run"),
            ("test_unreadable_image_is_reported_with_its_path", "a photo that is not an image",
             "cannot read a training photo", "the photo's path is named"),
            ("test_invalid_hyperparameters_are_refused_together", "--epochs 0 and an image size of 100",
             "epochs must be at least 1", "every problem listed at once"),
            ("test_missing_run_and_missing_artifacts", "evaluating a run that has no model.keras",
             "has no model.keras", "exit 1"),
        ),
    ),
    "artifacts": Surface(
        title="Damaged run artifacts (every dashboard page)",
        tried_by=("tests/dashboard/test_damaged_artifacts.py",),
        how="One file of the demo run `demo-raw` is damaged in a copy of the demo workspace, then every page is "
            "opened through Streamlit's AppTest. The test asserts no exception on any page, an error or warning "
            "naming the run's file on each page that reads it, and the other run (`demo-nobg`) still shown on every "
            "page.",
        outcome="the pages that read the file say so for demo-raw; every page still shows demo-nobg",
        table_test="test_a_damaged_artifact_costs_its_run_a_message_not_the_page",
        cases=_table(
            ("metrics-truncated", "metrics.json cut off halfway", "metrics.json is not readable JSON"),
            ("metrics-list", "metrics.json holding a JSON list", "metrics.json should hold a JSON object"),
            ("confusion-truncated", "confusion.csv cut off mid-row", "confusion.csv is not a square matrix of counts"),
            ("confusion-empty", "an empty (0-byte) confusion.csv", "confusion.csv is not a readable CSV"),
            ("history-truncated", "history.csv cut off mid-row", "history.csv is cut off"),
            ("history-columns", "history.csv without its accuracy and loss columns", "lacks the column(s) accuracy, loss"),
            ("predictions-columns", "predictions.csv without its predicted column", "lacks the column(s) predicted"),
            ("maps-truncated", "attention/maps.npy cut off halfway", "maps.npy is damaged"),
            ("maps-2d", "attention/maps.npy saved 2-D (one flat row per photo)", "expected (photos, height, width)"),
            ("maps-short", "attention/maps.npy with two maps fewer than predictions", "rows (one per prediction)"),
            ("sums-truncated", "attention/sums.npz cut off halfway", "sums.npz is damaged"),
            ("config-truncated", "config.json cut off halfway", "config.json is not readable JSON"),
            ("identity-truncated", "identity.json cut off mid-write", "identity.json is not readable JSON"),
            ("analytics-truncated", "brand_analytics.json cut off halfway", "brand_analytics.json is not readable JSON"),
            ("per-image-columns", "attention/per_image.csv without its path column", "lacks the column(s) path"),
            ("embeddings-short", "embeddings.npy with one row fewer than predictions", "one row per predictions.csv row"),
            ("model-truncated", "model.keras cut off at 30%", "model.keras is damaged and does not load",
             "Analyse answers with the other model alone"),
        ),
    ),
    "report": Surface(
        title="The brand report (python -m dashboard.report)",
        tried_by=("tests/dashboard/test_report_bad_inputs.py",),
        how="A good report is written first; then one file of the run is damaged (or the arguments are bad) and the "
            "CLI runs again. The test asserts no traceback; where the report cannot be built, exit 1 with one "
            "`error:` line and the earlier report unchanged; otherwise exit 0 with the message in the section's place.",
        table_test="test_a_damaged_run_costs_the_report_a_section_or_one_line",
        cases=_table(
            ("maps-truncated", "attention/maps.npy cut off halfway", "maps.npy is damaged",
             "exit 0; the example photos shown without their attention"),
            ("maps-2d", "attention/maps.npy saved 2-D", "expected (photos, height, width)",
             "exit 0; the example photos shown without their attention"),
            ("maps-short", "attention/maps.npy with three maps fewer than predictions", "rows (one per prediction)",
             "exit 0; the example photos shown without their attention"),
            ("confusion-empty", "an empty (0-byte) confusion.csv", "confusion.csv is not a readable CSV",
             "exit 0; the confusion row recounted from predictions.csv"),
            ("confusion-truncated", "confusion.csv cut off mid-row", "confusion.csv is not a square matrix of counts",
             "exit 0; the confusion row recounted from predictions.csv"),
            ("sums-truncated", "attention/sums.npz cut off halfway", "sums.npz is damaged",
             "exit 0; the heat-map section replaced by the message"),
            ("identity-truncated", "identity.json cut off mid-write", "identity.json is not readable JSON",
             "exit 0; the identity section replaced by the message"),
            ("analytics-truncated", "brand_analytics.json cut off mid-write", "brand_analytics.json is not readable JSON",
             "exit 0; the index computed for this report, the damaged file named beside it"),
            ("metrics-truncated", "metrics.json cut off halfway", "metrics.json is not readable JSON",
             "exit 0; the body-zone section replaced by the message"),
            ("config-truncated", "config.json cut off halfway", "config.json is not readable JSON",
             "exit 1; the earlier report unchanged"),
            ("predictions-columns", "predictions.csv without its predicted column", "lacks the column(s) predicted",
             "exit 1; the earlier report unchanged"),
            ("embeddings-short", "embeddings.npy with one row fewer than predictions", "one row per predictions.csv row",
             "exit 1; the earlier report unchanged"),
            ("missing-run", "--run naming no run", "no run 'nope'", "exit 1; the earlier report unchanged"),
            ("unknown-brand", "--brand naming a house the run does not know", "is not one of this run's houses",
             "exit 1; the earlier report unchanged"),
            ("out-not-html", "--out naming a .pdf file", "--out should name an .html file",
             "exit 1; the earlier report unchanged"),
            ("hostile-brand", "a house named with HTML and a script in it",
             "the name shown as escaped text, never run as markup", "exit 0", None, False),
        ),
    ),
}


def cases(surface: str) -> list[BadInput]:
    """The table-driven rows of one surface, for `pytest.mark.parametrize(..., ids=lambda c: c.id)`."""
    return [case for case in SURFACES[surface].cases if case.test is None]


def check_covered(surface: str, built: set[str] | dict) -> None:
    """Fail unless the test module builds exactly the ids of its table's table-driven rows."""
    expected = {case.id for case in SURFACES[surface].cases if case.test is None}
    missing, extra = expected - set(built), set(built) - expected
    assert not missing and not extra, f"{surface}: table ids not built {sorted(missing)}, built but not listed {sorted(extra)}"


def render() -> str:
    lines = [
        "# Reliability: the bad inputs the tests try, and what each gets",
        "",
        "Generated by `python tests/bad_inputs.py` from the tables the tests run (`tests/bad_inputs.py`);",
        "`tests/test_reliability_doc.py` fails when this file is out of date. Every row is a test case:",
        "the product answers with the message quoted (a clear line, never a traceback), and loses nothing.",
        "",
        "| surface | kinds of bad input | tried by |",
        "|---|---:|---|",
    ]
    lines += [f"| [{s.title}](#{_anchor(s.title)}) | {len(s.cases)} | {', '.join(f'`{t}`' for t in s.tried_by)} |"
              for s in SURFACES.values()]
    for surface in SURFACES.values():
        lines += ["", f"## {surface.title}", "", surface.how, "",
                  "| bad input | the user is told | and | test |", "|---|---|---|---|"]
        lines += [f"| {_cell(c.kind)} | {_message(c)} | {_cell(c.outcome or surface.outcome)} | "
                  f"`{c.test or f'{surface.table_test}[{c.id}]'}` |" for c in surface.cases]
    return "\n".join(lines) + "\n"


def _message(case: BadInput) -> str:
    return f"“{_cell(case.message)}”" if case.quoted else _cell(case.message)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _anchor(title: str) -> str:
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -")
    return kept.replace(" ", "-")


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
        if current != text:
            print(f"{DOC} is out of date: run python tests/bad_inputs.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
