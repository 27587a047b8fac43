"""The thesis's published numbers (dashboard/thesis_reference.json), shown beside a run's own.

The file holds section 3.2's brand counts, the two confusion matrices (tables 3.1 and 3.3) and
the two classification reports with corrected captions: the thesis prints them swapped, so the
report with accuracy 0.86 (printed as table 3.4) belongs to the model *with* background and the
one with 0.68 (printed as table 3.2) to the model *without*. `caption_correction` says why.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pandas as pd

REFERENCE_FILE = Path(__file__).resolve().parent / "thesis_reference.json"


@cache
def reference() -> dict:
    return json.loads(REFERENCE_FILE.read_text(encoding="utf-8"))


def citation_text() -> str:
    c = reference()["citation"]
    return f"{c['author']}, *{c['title']}*, {c['kind']}, {c['institution']}, {c['academic_year']}."


def confusion(variant: str) -> pd.DataFrame:
    """The thesis's confusion matrix for `raw` (table 3.1) or `nobg` (table 3.3)."""
    ref = reference()
    labels = ref["labels"]
    return pd.DataFrame(ref["variants"][variant]["confusion"]["matrix"], index=labels, columns=labels)


def report(variant: str) -> pd.DataFrame:
    """The thesis's classification report for a variant, with the corrected caption."""
    data = reference()["variants"][variant]["report"]
    rows = {**data["per_class"], "macro avg": data["macro"], "weighted avg": data["weighted"]}
    return pd.DataFrame.from_dict(rows, orient="index")[["precision", "recall", "f1", "support"]]


def report_title(variant: str) -> str:
    ref = reference()["variants"][variant]
    return (
        f"Thesis, {ref['label']}: accuracy {ref['report']['accuracy']:.2f} "
        f"(printed as {ref['report']['printed_as']}, caption corrected)"
    )


def confusion_title(variant: str) -> str:
    ref = reference()["variants"][variant]
    return f"Thesis {ref['confusion']['table']}, {ref['label']}"
