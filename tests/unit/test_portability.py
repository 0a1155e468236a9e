"""Runs where POSIX extras are missing (Windows): no fork hooks, no fchmod, no system zones."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tzlocal

from data.engine.periods import resolve_time_zone

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter started in the project folder."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cache_manager_imports_and_settings_save_without_fork_hooks_or_fchmod(tmp_path: Path):
    result = run_python(
        """
        import os, stat, sys
        from pathlib import Path
        del os.fork, os.register_at_fork, os.fchmod  # as on Windows (fchmod: before 3.13)
        import data.storage.cache_manager
        from data.storage.persistence import load_settings, save_settings
        root = Path(sys.argv[1])
        settings = load_settings(root)
        settings["jira"]["token"] = "s3cret"
        save_settings(root, settings)
        saved = root / "settings.json"
        print(oct(stat.S_IMODE(saved.stat().st_mode)), load_settings(root)["jira"]["token"])
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0o600", "s3cret"]


def test_zones_resolve_from_the_tzdata_package_without_system_zone_files(tmp_path: Path):
    result = run_python(
        """
        import zoneinfo
        zoneinfo.reset_tzpath(to=[])  # no /usr/share/zoneinfo, as on Windows
        from data.engine.periods import resolve_time_zone
        print(resolve_time_zone("UTC").key, resolve_time_zone("Europe/Berlin").key)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["UTC", "Europe/Berlin"]


def test_without_tz_the_local_zone_is_the_systems_as_tzlocal_reads_it(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("TZ", raising=False)
    tzlocal.reload_localzone()
    system = tzlocal.get_localzone_name()
    assert resolve_time_zone(None).key == (system if system else "UTC")


def test_an_unreadable_system_zone_falls_back_to_utc(monkeypatch: pytest.MonkeyPatch):
    def broken() -> str:
        raise LookupError("no zone configured")

    monkeypatch.delenv("TZ", raising=False)
    monkeypatch.setattr(tzlocal, "get_localzone_name", broken)
    assert resolve_time_zone("").key == "UTC"


def test_no_posix_only_call_outside_a_guarded_branch():
    posix_only = ("os.register_at_fork(", "os.fchmod(", "os.readlink(", "os.fork(", "os.getuid(")
    for path in [ROOT / "app.py", *ROOT.glob("data/*.py"), *ROOT.glob("configuration/*.py")]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if any(call in line for call in posix_only):
                guard = path.read_text().splitlines()[number - 2]
                assert "hasattr(os" in guard, f"{path.name}:{number} is not guarded: {line.strip()}"
