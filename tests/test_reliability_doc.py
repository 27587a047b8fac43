"""docs/RELIABILITY.md is generated from the bad-input tables, is current, and every row is really a test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests import bad_inputs

REPO = Path(__file__).resolve().parents[1]


def test_the_document_is_current():
    assert bad_inputs.DOC.read_text(encoding="utf-8") == bad_inputs.render(), (
        "docs/RELIABILITY.md is out of date: run `python tests/bad_inputs.py`")


def test_each_surface_tries_at_least_ten_kinds_of_bad_input():
    assert {name: len(s.cases) for name, s in bad_inputs.SURFACES.items() if len(s.cases) < 10} == {}


def test_ids_are_unique_within_a_surface():
    for name, surface in bad_inputs.SURFACES.items():
        ids = [case.id for case in surface.cases]
        assert len(ids) == len(set(ids)), name


def functions(path: Path) -> dict[str, str]:
    """Test function name -> its source with its decorators (a parametrize table holds the messages), parsed,
    not imported: no fixtures, no TensorFlow."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found = {}
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            found[node.name] = "\n".join(lines[first - 1:node.end_lineno])
    return found


@pytest.mark.parametrize("name", list(bad_inputs.SURFACES))
def test_every_named_row_is_a_test_that_asserts_its_message(name):
    surface = bad_inputs.SURFACES[name]
    tests = {}
    for file in surface.tried_by:
        assert (REPO / file).is_file(), file
        tests.update(functions(REPO / file))
    for case in surface.cases:
        if case.test is None:
            continue  # table-driven: the module's own check_covered test proves it builds the row
        assert case.test in tests, f"{name}: no test {case.test} in {', '.join(surface.tried_by)}"
        if case.quoted:
            assert case.message in tests[case.test], f"{name}: {case.test} does not assert “{case.message}”"


def test_a_table_driven_surface_has_a_module_that_checks_it_builds_every_row():
    for name, surface in bad_inputs.SURFACES.items():
        if all(case.test for case in surface.cases):
            continue
        sources = "".join((REPO / file).read_text(encoding="utf-8") for file in surface.tried_by)
        assert f'check_covered("{name}"' in sources, name
