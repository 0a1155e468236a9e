"""Documentation stays true: every setting and every command-line option is documented."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from app import build_parser
from configuration.settings import DEFAULT_SETTINGS

ROOT = Path(__file__).resolve().parents[2]


def flattened_keys(value: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of a nested settings dict; mapping tables count as one key."""
    keys = []
    for key, child in value.items():
        dotted = f"{prefix}{key}"
        if isinstance(child, dict) and child and prefix != "mappings.":
            keys.extend(flattened_keys(child, f"{dotted}."))
        else:
            keys.append(dotted)
    return keys


@pytest.mark.parametrize("key", flattened_keys(DEFAULT_SETTINGS))
def test_every_setting_is_documented_in_the_settings_spec(key: str) -> None:
    assert f"`{key}`" in (ROOT / "specs" / "settings.md").read_text()


def command_line_options() -> list[tuple[str, str]]:
    parser = build_parser()
    found = [("app.py", option) for action in parser._actions for option in action.option_strings]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += [(name, opt) for act in sub._actions for opt in act.option_strings]
    return [(cmd, opt) for cmd, opt in found if opt not in ("-h", "--help")]


@pytest.mark.parametrize(("command", "option"), command_line_options())
def test_every_command_line_option_is_documented_in_the_readme(command: str, option: str) -> None:
    assert option in (ROOT / "README.md").read_text(), f"{command} {option} is not in README.md"


def test_readme_test_command_is_what_ci_runs() -> None:
    assert "bash scripts/test.sh" in (ROOT / "README.md").read_text()
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
