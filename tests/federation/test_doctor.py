"""``panebus doctor`` on either end of a link: unreachable, wrong key, wrong upstream key, clock
skew measured, and the central host naming the keys it refused."""

from __future__ import annotations

import shutil
import typing as t

import pytest

from bus.broker import Broker
from bus.keys import UPSTREAM_KEY, generate_pair, key_files
from bus.paths import Paths
from panebus.doctor_hosts import check_listen, check_upstream
from tests.bus.test_acked_curve_async import free_port_block
from tests.federation.helpers import authorize, central_access
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    from bus.endpoints import Endpoints


def _configure(paths: Paths, upstream: str) -> None:
    paths.config_file.parent.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(f'[bus]\nhost = "alpha"\nupstream = "{upstream}"\n')


@pytest.fixture
def paths(panebus_home: Path) -> Paths:
    made = Paths.from_env()
    generate_pair(made.keys_dir, "alpha")
    return made


def test_no_upstream_no_line(paths: Paths) -> None:
    assert check_upstream(paths) is None
    assert check_listen(paths) is None


def test_missing_upstream_key_says_which_file(paths: Paths) -> None:
    _configure(paths, "tcp://127.0.0.1:7710")
    check = check_upstream(paths)
    assert check is not None and check.status == "fail"
    assert "upstream.key" in check.detail and "--upstream-key" in check.detail


def test_unreachable_upstream(paths: Paths, tmp_path: Path) -> None:
    generate_pair(tmp_path / "other", "broker")
    shutil.copyfile(key_files(tmp_path / "other", "broker")[0],
                    key_files(paths.keys_dir, UPSTREAM_KEY)[0])
    _configure(paths, f"tcp://127.0.0.1:{free_port_block()}")
    check = check_upstream(paths)
    assert check is not None and check.status == "fail"
    assert "unreachable" in check.detail


def test_wrong_key_then_admitted_with_the_clock_compared(
    paths: Paths, endpoints: Endpoints, tmp_path: Path
) -> None:
    central_keys = tmp_path / "central-keys"
    access, listen = central_access(central_keys)
    shutil.copyfile(key_files(central_keys, "broker")[0],
                    key_files(paths.keys_dir, UPSTREAM_KEY)[0])
    _configure(paths, listen)
    with_broker = Broker(endpoints, remote=access, heartbeat_interval=0.2).start()
    try:
        refused = check_upstream(paths)
        assert refused is not None and refused.status == "fail"
        assert "wrong key" in refused.detail and "--authorize" in refused.fix
        authorize(central_keys, paths.keys_dir, "alpha")
        wait_for(lambda: with_broker.ring is not None and "alpha" in with_broker.ring.hosts)
        admitted = check_upstream(paths)
        assert admitted is not None and admitted.status == "ok", admitted
        assert "admits host alpha" in admitted.detail and "clock skew 0." in admitted.detail
    finally:
        with_broker.stop()


def test_a_pinned_key_of_another_broker(
    paths: Paths, endpoints: Endpoints, tmp_path: Path
) -> None:
    central_keys = tmp_path / "central-keys"
    access, listen = central_access(central_keys)
    authorize(central_keys, paths.keys_dir, "alpha")
    generate_pair(tmp_path / "impostor", "broker")
    shutil.copyfile(key_files(tmp_path / "impostor", "broker")[0],
                    key_files(paths.keys_dir, UPSTREAM_KEY)[0])
    _configure(paths, listen)
    with_broker = Broker(endpoints, remote=access, heartbeat_interval=0.2).start()
    try:
        check = check_upstream(paths)
        assert check is not None and check.status == "fail"
        assert "wrong upstream key" in check.detail and "--upstream-key" in check.fix
    finally:
        with_broker.stop()
