"""``panebus doctor`` says who else can reach the bus: insecure tcp flagged, open ipc dirs fail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import typing as t

from panebus.doctor import check_access

if t.TYPE_CHECKING:
    from pathlib import Path

    import pytest

INSECURE_TCP = {
    "PANEBUS_BUS_PUBLISH": "tcp://127.0.0.1:7101",
    "PANEBUS_BUS_SUBSCRIBE": "tcp://127.0.0.1:7102",
    "PANEBUS_BUS_SNAPSHOT": "tcp://127.0.0.1:7103",
    "PANEBUS_BUS_INSECURE": "1",
}


def test_default_ipc_is_ok(panebus_home: Path) -> None:
    check = check_access()
    assert check.status == "ok"
    assert "only you" in check.detail


def test_insecure_tcp_is_flagged(panebus_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in INSECURE_TCP.items():
        monkeypatch.setenv(name, value)
    check = check_access()
    assert check.status == "warn"
    assert "every local user" in check.detail
    assert "panebus keys" in check.fix


def test_ipc_dir_open_to_others_fails(
    panebus_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    for role in ("PUBLISH", "SUBSCRIBE", "SNAPSHOT"):
        monkeypatch.setenv(f"PANEBUS_BUS_{role}", f"ipc://{shared}/{role.lower()}.sock")
    check = check_access()
    assert check.status == "fail"
    assert "chmod 700" in check.detail


def test_doctor_cli_prints_the_flag(panebus_home: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "panebus", "doctor", "--json", "-L", "panebus-no-such-server"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, **INSECURE_TCP},
    )
    checks = {row["name"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert checks["access"]["status"] == "warn", result.stdout
    assert "every local user" in checks["access"]["detail"]
