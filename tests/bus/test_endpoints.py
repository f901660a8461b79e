"""Endpoints: private ipc by default; tcp only with CURVE or insecure on loopback."""

from __future__ import annotations

import os
import stat
import typing as t

import pytest

from bus import keys
from bus.endpoints import EndpointError, Endpoints, InsecureEndpointError
from bus.paths import InsecureDirectoryError, Paths

if t.TYPE_CHECKING:
    from pathlib import Path


def test_default_is_ipc_in_a_private_runtime_dir(panebus_home: Path) -> None:
    endpoints = Endpoints.default()
    runtime = Paths.from_env().runtime_dir
    assert runtime.is_relative_to(panebus_home)
    for endpoint in (endpoints.publish, endpoints.subscribe, endpoints.snapshot):
        assert endpoint.startswith(f"ipc://{runtime}/")
    info = runtime.stat()
    assert stat.S_IMODE(info.st_mode) == 0o700  # a second user can neither list nor connect
    assert info.st_uid == os.getuid()
    assert len({endpoints.publish, endpoints.subscribe, endpoints.snapshot}) == 3


def test_an_open_runtime_dir_is_closed_again(panebus_home: Path) -> None:
    runtime = Paths.from_env().runtime_dir
    runtime.mkdir(parents=True)
    runtime.chmod(0o755)
    Endpoints.default()
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o700


def test_runtime_dir_of_another_user_is_refused(panebus_home: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to create a dir owned by another user")
    runtime = Paths.from_env().runtime_dir
    runtime.mkdir(parents=True)
    os.chown(runtime, 65534, 65534)
    with pytest.raises(InsecureDirectoryError):
        Endpoints.default()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.org", "::"])
def test_insecure_tcp_off_loopback_is_refused(host: str) -> None:
    with pytest.raises(InsecureEndpointError, match="loopback only"):
        Endpoints.tcp(host, 5560, insecure=True)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "localhost"])
def test_insecure_tcp_on_loopback_is_allowed(host: str) -> None:
    endpoints = Endpoints.tcp(host, 5560, insecure=True)
    assert endpoints.publish.endswith(":5560")
    assert endpoints.snapshot.endswith(":5562")


def test_tcp_without_keys_or_insecure_is_refused() -> None:
    with pytest.raises(InsecureEndpointError, match="CURVE"):
        Endpoints.tcp("127.0.0.1", 5560)


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(EndpointError, match="unsupported"):
        Endpoints("udp://x:1", "udp://x:2", "udp://x:3")


def test_too_long_ipc_path_is_refused() -> None:
    with pytest.raises(EndpointError, match="too long"):
        Endpoints.ipc(__import__("pathlib").Path("/tmp/" + "d" * 120))


def test_config_section_selects_tcp(panebus_home: Path) -> None:
    paths = Paths.from_env()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(
        "[bus]\n"
        'publish = "tcp://127.0.0.1:7001"\n'
        'subscribe = "tcp://127.0.0.1:7002"\n'
        'snapshot = "tcp://127.0.0.1:7003"\n'
        "insecure = true\n",
        encoding="utf-8",
    )
    endpoints = Endpoints.default()
    assert endpoints.subscribe == "tcp://127.0.0.1:7002"
    assert endpoints.insecure
    assert endpoints.curve is None


def test_configured_tcp_uses_the_curve_keys(panebus_home: Path) -> None:
    paths = Paths.from_env()
    keys.generate_keys(paths.keys_dir)
    environ = {
        "PANEBUS_HOME": str(panebus_home),
        "PANEBUS_BUS_PUBLISH": "tcp://10.1.2.3:7001",
        "PANEBUS_BUS_SUBSCRIBE": "tcp://10.1.2.3:7002",
        "PANEBUS_BUS_SNAPSHOT": "tcp://10.1.2.3:7003",
    }
    endpoints = Endpoints.default(environ=environ)
    assert endpoints.curve == keys.load_keys(paths.keys_dir)


def test_configured_tcp_without_keys_says_how_to_make_them(panebus_home: Path) -> None:
    environ = {
        "PANEBUS_HOME": str(panebus_home),
        "PANEBUS_BUS_PUBLISH": "tcp://10.1.2.3:7001",
        "PANEBUS_BUS_SUBSCRIBE": "tcp://10.1.2.3:7002",
        "PANEBUS_BUS_SNAPSHOT": "tcp://10.1.2.3:7003",
    }
    with pytest.raises(keys.MissingKeysError, match="panebus keys"):
        Endpoints.default(environ=environ)


def test_env_insecure_on_a_lan_address_is_refused(panebus_home: Path) -> None:
    environ = {
        "PANEBUS_HOME": str(panebus_home),
        "PANEBUS_BUS_PUBLISH": "tcp://10.1.2.3:7001",
        "PANEBUS_BUS_SUBSCRIBE": "tcp://10.1.2.3:7002",
        "PANEBUS_BUS_SNAPSHOT": "tcp://10.1.2.3:7003",
        "PANEBUS_BUS_INSECURE": "1",
    }
    with pytest.raises(InsecureEndpointError):
        Endpoints.default(environ=environ)


def test_partial_configuration_is_refused(panebus_home: Path) -> None:
    environ = {"PANEBUS_HOME": str(panebus_home), "PANEBUS_BUS_PUBLISH": "tcp://127.0.0.1:1"}
    with pytest.raises(EndpointError, match="subscribe, snapshot"):
        Endpoints.default(environ=environ)


def test_key_files_are_private(panebus_home: Path) -> None:
    keys_dir = Paths.from_env().keys_dir
    keys.generate_keys(keys_dir)
    assert stat.S_IMODE(keys_dir.stat().st_mode) == 0o700
    for role in keys.ROLES:
        for path in keys.key_files(keys_dir, role):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        keys.generate_keys(keys_dir)


def test_broken_config_file_is_a_clear_error(panebus_home: Path) -> None:
    paths = Paths.from_env()
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text("[bus\n", encoding="utf-8")
    with pytest.raises(EndpointError, match="not valid TOML"):
        Endpoints.default()


def _ipc_config(panebus_home: Path, directory: Path) -> None:
    paths = Paths.from_env()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(
        "[bus]\n"
        f'publish = "ipc://{directory}/pub.sock"\n'
        f'subscribe = "ipc://{directory}/sub.sock"\n'
        f'snapshot = "ipc://{directory}/snap.sock"\n',
        encoding="utf-8",
    )


def test_configured_ipc_dir_open_to_others_is_refused_and_left_alone(
    panebus_home: Path, tmp_path: Path
) -> None:
    shared = tmp_path / "shared-sockets"
    shared.mkdir()
    shared.chmod(0o755)
    _ipc_config(panebus_home, shared)
    with pytest.raises(InsecureEndpointError, match=r"mode 0755.*chmod 700"):
        Endpoints.default()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755  # the user's dir is never changed


def test_configured_ipc_dir_group_readable_is_refused(panebus_home: Path, tmp_path: Path) -> None:
    shared = tmp_path / "group-sockets"
    shared.mkdir()
    shared.chmod(0o710)  # group may enter: that is enough to connect
    _ipc_config(panebus_home, shared)
    with pytest.raises(InsecureEndpointError, match="other users can enter"):
        Endpoints.default()


def test_configured_ipc_dir_is_created_private(panebus_home: Path, tmp_path: Path) -> None:
    wanted = tmp_path / "mine" / "sockets"
    _ipc_config(panebus_home, wanted)
    endpoints = Endpoints.default()
    assert endpoints.publish == f"ipc://{wanted}/pub.sock"
    assert stat.S_IMODE(wanted.stat().st_mode) == 0o700
    assert endpoints.warnings() == []


def test_private_configured_ipc_dir_is_accepted(panebus_home: Path, tmp_path: Path) -> None:
    mine = tmp_path / "private"
    mine.mkdir(mode=0o700)
    _ipc_config(panebus_home, mine)
    assert Endpoints.default().subscribe == f"ipc://{mine}/sub.sock"


def test_ipc_endpoints_built_directly_are_checked_too(tmp_path: Path) -> None:
    shared = tmp_path / "open"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(InsecureEndpointError, match="0777"):
        Endpoints.ipc(shared)


def test_ipc_dir_of_another_user_is_refused(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("needs root to create a dir owned by another user")
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    with pytest.raises(InsecureEndpointError, match="owned by uid 65534"):
        Endpoints.ipc(theirs)


def test_insecure_tcp_says_every_local_user_can_read(panebus_home: Path) -> None:
    endpoints = Endpoints.tcp("127.0.0.1", 5560, insecure=True)
    assert endpoints.readable_by_others
    (warning,) = endpoints.warnings()
    assert "every local user" in warning
    assert "tcp://127.0.0.1:5561" in warning
    assert Endpoints.default().warnings() == []


def test_broker_on_insecure_tcp_warns_when_it_binds(
    panebus_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    from bus.broker import Broker

    with socket.socket() as probe:  # three free consecutive ports are likely after a free one
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    endpoints = Endpoints.tcp("127.0.0.1", port, insecure=True)
    with caplog.at_level("WARNING", logger="bus.broker"):
        broker = Broker(endpoints).start()
        try:
            assert any("every local user" in record.getMessage() for record in caplog.records)
        finally:
            broker.stop()
