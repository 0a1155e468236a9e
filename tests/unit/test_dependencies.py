"""The declared dependencies match the imports, and the lock files pin and hash all of them."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
FIRST_PARTY = {"app", "callbacks", "configuration", "data", "tests", "ui"}


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(requirements: list[str]) -> set[str]:
    return {canonical(re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0]) for line in requirements}


RUNTIME = declared(PROJECT["dependencies"])
DEV = declared(PROJECT["optional-dependencies"]["dev"])


def imported_distributions(folders: list[str]) -> set[str]:
    """The distributions of every third-party module the files under `folders` import."""
    owners = packages_distributions()
    found: set[str] = set()
    for folder in folders:
        for path in [ROOT / folder] if folder.endswith(".py") else (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split(".")[0]
                    if top in FIRST_PARTY or top in sys.stdlib_module_names:
                        continue
                    found.update(canonical(owner) for owner in owners.get(top, [top]))
    return found


def pinned(lock: str) -> dict[str, str]:
    """`name -> the text of its entry` for every package a lock file pins."""
    entries = re.split(r"\n(?=[A-Za-z])", (ROOT / lock).read_text())
    return {
        canonical(entry.split("==")[0]): entry
        for entry in entries
        if re.match(r"[A-Za-z0-9][\w.-]*==", entry)
    }


def test_the_product_imports_only_declared_runtime_dependencies():
    used = imported_distributions(["app.py", "data", "callbacks", "ui", "configuration"])
    assert used <= RUNTIME, f"imported but not in [project] dependencies: {used - RUNTIME}"


def test_the_tests_import_only_declared_runtime_or_dev_dependencies():
    used = imported_distributions(["tests"])
    assert used <= RUNTIME | DEV, f"imported by tests but not declared: {used - RUNTIME - DEV}"


@pytest.mark.parametrize(
    ("lock", "wanted"),
    [("requirements.lock", RUNTIME), ("requirements-dev.lock", RUNTIME | DEV)],
)
def test_each_lock_file_pins_every_declared_package_with_hashes(lock: str, wanted: set[str]):
    entries = pinned(lock)
    assert wanted <= set(entries), f"{lock} lacks {wanted - set(entries)}: compile it again"
    unhashed = [name for name, entry in entries.items() if "--hash=sha256:" not in entry]
    assert not unhashed, f"{lock} pins without a hash: {unhashed}"


def test_the_runtime_lock_holds_no_test_or_lint_package():
    assert not (set(pinned("requirements.lock")) & {"pytest", "ruff", "mypy", "hypothesis"})
