"""The README documents every setting (its environment variable and default)."""

from pathlib import Path

from sessionlens.settings import Settings


def test_every_setting_is_in_the_readme():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name in Settings.model_fields:
        assert f"SESSIONLENS_{name.upper()}" in readme, name
