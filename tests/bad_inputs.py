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
    "runway_csv": Surface(
        title="The runway CSV given to prepare and import-csv",
        tried_by=("tests/test_cli_bad_inputs.py", "tests/data/test_prepare.py", "tests/scraping/test_importers.py"),
        how="`python -m data prepare --name earlier` and `python -m scraping import-csv` (run through their `main`) in a "
            "workspace that already holds a dataset named earlier and an import. The test asserts a non-zero exit, one "
            "`error:` line, no traceback, and every earlier file byte-identical.",
        outcome="exit 1 (prepare) or 2 (import-csv); the dataset and the import already there untouched",
        table_test="test_a_bad_runway_csv_is_one_line_and_changes_nothing",
        cases=_table(
            ("prepare:binary", "a PNG saved as runway.csv", "not a readable runway CSV (binary data, not text)"),
            ("prepare:empty", "an empty file", "not a readable runway CSV"),
            ("prepare:header-only", "the header and no rows", "the runway CSV has no rows (only its header)"),
            ("prepare:no-brand-column", "no brand column", "lacks the column(s) brand"),
            ("prepare:blank-brands", "every brand cell blank", "none of its 16 rows names a brand"),
            ("prepare:csv-missing", "--csv names no file", "runway CSV not found"),
            ("prepare:csv-is-a-folder", "--csv names a folder", "is a folder, not a runway CSV file"),
            ("prepare:photos-gone", "every photo the CSV names deleted", "no readable photos left for Chanel, Versace"),
            ("prepare:images-missing", "--images names no folder", "image root not found"),
            ("prepare:one-brand", "photos of one house only", "one brand only (Chanel)"),
            ("prepare:unknown-brand", "--brands names a house not in the CSV", "'Balenciaga' is not in the CSV"),
            ("prepare:bad-name", "--name ../escape", "dataset name '../escape'"),
            ("import-csv:binary", "a PNG saved as runway.csv", "not a CSV (binary data, not text)"),
            ("import-csv:empty", "an empty file", "it has no header"),
            ("import-csv:header-only", "the header and no rows", "the CSV has no rows (only its header)"),
            ("import-csv:no-brand-column", "no brand column", "missing column(s) brand"),
            ("import-csv:blank-brands", "every brand cell blank", "none of its 16 rows names a brand"),
            ("import-csv:csv-missing", "the CSV path names no file", "no such file"),
            ("import-csv:csv-is-a-folder", "the CSV path names a folder", "is a folder, not a CSV file"),
            ("import-csv:photos-gone", "every photo the CSV names deleted", "none of the 16 photo(s) could be saved",
             "each photo logged and listed in failures.csv; exit 1"),
            ("import-csv:images-missing", "--images names no folder", "no such folder"),
            ("import-csv:unsafe-paths-only", "image_path ../../etc/passwd", "none of the 1 photo(s) could be saved",
             "nothing read outside --images; listed as unsafe_path in failures.csv; exit 1"),
        ) + _named(
            ("test_import_csv_reads_a_latin_1_csv_as_prepare_does", "a CSV saved as Latin-1 (Hermès)",
             "read as Latin-1, as prepare reads it", "imported, the names intact", False),
            ("test_a_brand_a_spreadsheet_would_run_is_neutralised_in_every_csv_and_read_back",
             "cells starting with = + - @ (formula injection)", "quoted in every CSV written; read back as they were",
             "a spreadsheet shows text, never runs it", False),
            ("test_brands_named_in_any_script_survive_prepare_with_their_names", "brand names in other scripts",
             "kept with their own letters", "", False),
            ("test_a_brand_whose_photos_are_all_unreadable_leaves_one_brand_and_is_refused",
             "one house whose photos are all unreadable", "only Chanel has readable photos left", "exit 1"),
        ),
    ),
    "import": Surface(
        title="A photo folder given to import-folder",
        tried_by=("tests/test_cli_bad_inputs.py", "tests/scraping/test_importers.py"),
        how="`python -m scraping import-folder` (run through its `main`) into a workspace whose scrapes/import already "
            "holds an import. The test asserts a non-zero exit, one `error:` line (each failed photo is also logged on "
            "its own `WARNING:` line), no traceback, and runway.csv and the photos already imported byte-identical.",
        outcome="exit 2 before anything is written; exit 1 when every photo failed (failures.csv lists each)",
        table_test="test_a_bad_photo_folder_is_one_line_and_changes_nothing",
        cases=_table(
            ("root-missing", "a folder that does not exist", "no such folder"),
            ("root-is-a-file", "a photo instead of a folder", "is a file; give the folder that holds one folder per brand"),
            ("no-brand-folders", "photos directly in the folder", "no brand folders"),
            ("hidden-folders-only", "only hidden folders (.thumbnails)", "no brand folders"),
            ("no-photos", "brand folders holding only text files", "no photos (.bmp, .gif"),
            ("text-named-jpg", "an HTML page and a text file named .jpg", "none of the 2 photo(s) could be saved"),
            ("empty-files", "a 0-byte .jpg", "none of the 1 photo(s) could be saved"),
            ("dangling-links", "a symbolic link to a deleted photo", "none of the 1 photo(s) could be saved"),
            ("decompression-bomb", "a PNG header declaring 40,000 × 40,000 pixels", "none of the 1 photo(s) could be saved"),
            ("out-is-a-file", "--out names a file", "is a file, not a folder"),
            ("out-holds-a-foreign-csv", "--out holds someone else's runway.csv", "choose another --out folder"),
        ) + _named(
            ("test_import_folder_saves_what_a_symbolic_link_points_to", "photos that are symbolic links",
             "the photo it points to is saved, not the link", "a dangling link is listed in failures.csv", False),
            ("test_brand_folders_named_in_any_script_are_imported_with_their_names",
             "brand folders named in other scripts (Comme des Garçons, ヨウジヤマモト)", "imported under their own names",
             "", False),
        ),
    ),
    "predict": Surface(
        title="Photos and runs given to predict",
        tried_by=("tests/test_cli_bad_inputs.py", "tests/model/test_predict_errors.py"),
        how="`python -m model predict` (run through its `main`) in a workspace holding a run. The run is checked "
            "before any photo is read, and TensorFlow is imported only when a photo is readable. The test asserts "
            "a non-zero exit, one `error:` line, no traceback, and the run folder byte-identical.",
        outcome="exit 1; the run untouched",
        table_test="test_a_bad_predict_call_is_one_line_and_changes_nothing",
        cases=_table(
            ("damaged-model", "a model.keras that is not a Keras archive", "is damaged and does not load"),
            ("run-without-model", "a run folder without model.keras", "has no model.keras"),
            ("damaged-config", "a run folder whose config.json is not JSON", "config.json is not readable JSON"),
            ("unknown-run", "--run names no run", "no run 'no-such-run'"),
            ("folder", "a folder given as a photo", "looks: is a folder, not a photo"),
            ("missing-photo", "a photo that does not exist", "gone.jpg: file not found"),
            ("text-file", "a text file", "notes.txt: not an image"),
            ("empty-file", "an empty .jpg", "empty.jpg: the file is empty"),
            ("truncated-jpeg", "a JPEG cut off after 400 bytes", "cut.jpg: the image is damaged or truncated"),
            ("decompression-bomb", "a PNG header declaring 40,000 × 40,000 pixels", "too many pixels"),
            ("overlay-with-two-photos", "--overlay with two photos", "--overlay takes one photo at a time"),
            ("unknown-colormap", "--colormap rainbow", "unknown colormap 'rainbow'"),
            ("opacity-out-of-range", "--opacity 2", "--opacity must be between 0 and 1"),
        ) + _named(
            ("test_a_damaged_model_file_is_one_error_line_that_names_it_and_says_to_retrain",
             "a damaged model.keras (the trained run's, overwritten)", "damaged", "never “File not found”; says --restart"),
            ("test_one_bad_photo_does_not_hide_the_results_for_the_good_ones", "one bad photo among good ones",
             "error: notes.txt: not an image (JPEG, PNG or WEBP expected)",
             "the good photos' results printed; exit 1 at the end"),
            ("test_json_output_keeps_the_good_photos_when_one_is_bad", "a missing photo with --json",
             "error: gone.jpg: file not found", "the JSON lists the good photos; exit 1"),
        ),
    ),
    "cli": Surface(
        title="Other commands: unknown names, bad option values, data a command cannot use",
        tried_by=("tests/test_cli_bad_inputs.py", "tests/model/test_baseline_and_compare.py"),
        how="Each command (run through its `main`) in a workspace holding a dataset, an import and an unevaluated run. "
            "The test asserts a non-zero exit, one error line (argparse's usage lines aside), no traceback, and every "
            "earlier file byte-identical.",
        outcome="exit 1, or 2 for an option argparse refuses; nothing written",
        table_test="test_a_bad_command_line_is_one_line_and_changes_nothing",
        cases=_table(
            ("train-unknown-architecture", "model train --architecture transformer", "invalid choice: 'transformer'"),
            ("train-unknown-dataset", "model train --data no-such-dataset", "dataset not found: no-such-dataset"),
            ("train-epochs-not-a-number", "model train --epochs ten", "'ten' is not a whole number"),
            ("evaluate-unknown-run", "model evaluate --run no-such-run", "no run 'no-such-run'"),
            ("baseline-one-brand", "model baseline on a dataset of one house", "a baseline needs at least two brands"),
            ("compare-brand-without-test-photos", "model compare on a split leaving a house without test photos",
             "the split leaves Versace without test photos"),
            ("compare-zero-seeds", "model compare --seeds 0", "--seeds must be at least 1"),
            ("ensemble-unevaluated-run", "model ensemble with a run never evaluated", "has no predictions.csv"),
            ("remove-background-unknown-dataset", "data remove-background --dataset no-such-dataset",
             "no manifest.csv in no-such-dataset"),
            ("prepare-negative-top", "data prepare --top 0", "--top must be at least 1"),
            ("analysis-unevaluated-run", "analysis index on a run never evaluated", "has no predictions.csv"),
            ("analysis-similar-without-embeddings", "analysis similar on a run without embeddings",
             "embeddings.npy is missing"),
            ("report-unknown-run", "dashboard.report --run no-such-run", "no run 'no-such-run'"),
            ("report-unevaluated-run", "dashboard.report on a run never evaluated", "has no predictions.csv"),
            ("crawl-implausible-year", "scraping crawl --since 1850", "1850 is below 1900"),
            ("crawl-unknown-source", "scraping crawl --source instagram", "invalid choice: 'instagram'"),
            ("pipeline-informativeness-out-of-range", "pipeline demo --background-informativeness 1.5",
             "--background-informativeness must be between 0 and 1"),
        ) + _named(
            ("test_unknown_architecture_is_refused_by_train_and_compare", "model compare --architectures transformer",
             "unknown architecture(s) transformer", "exit 1"),
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
