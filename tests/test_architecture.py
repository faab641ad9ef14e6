"""The import rule of DESIGN.md: screens → components → sessionlens → db, in one direction only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module.split(".")[0])
    return found


def _files(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("folder", ["sessionlens", "db"])
def test_domain_and_db_never_import_streamlit(folder):
    offenders = [p.name for p in _files(folder) if {"streamlit", "st_aggrid"} & _imports(p)]
    assert offenders == []


def test_pages_never_touch_sqlalchemy_or_the_grid_library():
    offenders = [
        p.name for p in _files("screens") if {"sqlalchemy", "st_aggrid", "db"} & _imports(p)
    ]
    assert offenders == []


def test_lower_layers_never_import_upper_ones():
    for folder, forbidden in (
        ("db", {"sessionlens", "components", "screens"}),
        ("sessionlens", {"components", "screens"}),
        ("components", {"screens"}),
    ):
        offenders = [p.name for p in _files(folder) if forbidden & _imports(p)]
        assert offenders == [], folder
