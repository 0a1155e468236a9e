"""`data/` takes plain arguments: the command line's argparse.Namespace stops in `app.py`."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from app import build_parser, source_options
from data.services.source_options import SourceOptions

ROOT = Path(__file__).resolve().parents[2]
DATA_MODULES = sorted((ROOT / "data").rglob("*.py"))


def test_no_data_module_imports_argparse() -> None:
    importing = []
    for path in DATA_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            if any(name.split(".")[0] == "argparse" for name in names):
                importing.append(path.relative_to(ROOT).as_posix())
    assert importing == []


def test_no_data_function_takes_the_parsed_command_line() -> None:
    """A parameter named `args` (other than `*args`) is how a Namespace travelled before."""
    taking = []
    for path in DATA_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                if any(param.arg == "args" for param in params):
                    taking.append(f"{path.relative_to(ROOT).as_posix()}:{node.name}")
    assert taking == []


def test_app_passes_the_source_options_as_one_frozen_dataclass() -> None:
    """`app.py` turns the parsed command line into the `SourceOptions` the services take."""
    args = build_parser().parse_args(
        ["items", "--metric", "flow_time", "--input", "f.json", "--period", "7d", "--now",
         "2024-01-31T12:00:00+00:00", "--tz", "UTC", "--deployments", "fixversions"]
    )  # fmt: skip
    source = source_options(args)
    assert source == SourceOptions(
        input_file="f.json",
        period="7d",
        now="2024-01-31T12:00:00+00:00",
        tz="UTC",
        deployments="fixversions",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        source.period = "30d"  # type: ignore[misc]
    assert source_options(build_parser().parse_args(["metrics"])) == SourceOptions()
