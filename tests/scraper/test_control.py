"""The control-mode client and the server link, on real tmux servers (private sockets)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import typing as t
from pathlib import Path

import pytest

from scraper.capture import ServerLink, capture_args, normalize
from scraper.config import ServerSpec
from scraper.control import CommandError, ControlClient, ControlError, quote, unescape_output
from scraper.discovery import LIST_PANES_ARGS, parse_list_panes
from tests.scraper.conftest import control_clients, new_pane, pane_sizes
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    import libtmux


def spec(server: libtmux.Server) -> ServerSpec:
    return ServerSpec(socket_name=server.socket_name)


def test_unescape_and_quote() -> None:
    assert unescape_output(b"a\\033[1mb\\134") == b"a\x1b[1mb\\"
    assert unescape_output(b"trailing\\01") == b"trailing\\01"
    assert quote("%3") == "'%3'"
    assert quote("capture-pane") == "capture-pane"
    assert quote("it's") == "'it'\\''s'"
    assert normalize(["a  ", "b", "", "  "]) == "a\nb"
    assert capture_args("%1", 10, True) == ["capture-pane", "-p", "-J", "-t", "%1", "-S", "-10",
                                            "-e"]


def test_commands_round_trip_and_errors(session: libtmux.Session, panebus_home: object) -> None:
    pane_id = new_pane(session, "printf 'hello %%end 1 2 1\\nworld\\n'; exec sleep 100000")
    client = ControlClient(spec(session.server), str(session.session_name))
    assert client.start(timeout=5)
    try:
        text = wait_for(
            lambda: "world" in (s := normalize(client.command(capture_args(pane_id)))) and s,
            message="pane text",
        )
        assert text == "hello %end 1 2 1\nworld"
        sweep = parse_list_panes(client.command(LIST_PANES_ARGS), "x")
        assert sweep.bad_lines == 0
        assert pane_id in {p.pane_id for p in sweep.panes}
        with pytest.raises(CommandError, match="can't find pane"):
            client.command(["capture-pane", "-p", "-t", "%9999"])
        good, bad, again = client.commands(
            [capture_args(pane_id), capture_args("%9999"), capture_args(pane_id)]
        )
        assert isinstance(bad, CommandError)
        assert isinstance(good, list) and good == again
        assert normalize(good) == text
        assert client.command(["display-message", "-p", "#{client_flags}"])[0].split(",").count(
            "read-only"
        ) == 1
    finally:
        client.close()
    assert not client.alive
    with pytest.raises(ControlError):
        client.command(["list-sessions"])
    assert wait_for(lambda: not control_clients(session.server), message="client detached")


def test_never_resizes_panes(session: libtmux.Session, panebus_home: object) -> None:
    new_pane(session, "exec sleep 100000")
    session.server.cmd("resize-window", "-t", f"{session.session_name}:", "-x", "97", "-y", "31")
    before = pane_sizes(session.server)
    link = ServerLink(spec(session.server))
    link.start()
    try:
        assert link.wait_connected(5)
        for pane_id in before:
            link.capture(pane_id)
        link.sweep()
        assert pane_sizes(session.server) == before
    finally:
        link.stop()
    assert pane_sizes(session.server) == before


def test_output_notifications(session: libtmux.Session, panebus_home: object) -> None:
    pane_id = new_pane(session, "exec cat")
    seen: list[tuple[str, str]] = []
    link = ServerLink(spec(session.server), on_output=lambda s, p, _data: seen.append((s, p)))
    link.start()
    try:
        assert link.wait_connected(5)
        session.server.cmd("send-keys", "-t", pane_id, "-l", "ping")
        wait_for(lambda: (str(session.server.socket_name), pane_id) in seen, message="%output")
    finally:
        link.stop()


def test_link_falls_back_then_reconnects_after_server_restart(
    server: libtmux.Server, panebus_home: object
) -> None:
    server.new_session(session_name="one", window_command="exec sleep 100000")
    link = ServerLink(spec(server))
    # Not started: every command is a one-shot tmux process.
    assert link.sweep().panes
    assert link.fallback_calls == 1
    events: list[str] = []
    link.on_event = events.append
    link.start()
    try:
        assert link.wait_connected(5)
        assert "reconnected" not in events  # the first attach is not a reconnect
        first_pid = link.client_pids()
        server.kill()
        wait_for(lambda: not link.control_up, message="client noticed the server died")
        with pytest.raises((CommandError, OSError)):
            link.sweep()
        server.new_session(session_name="two", window_command="exec sleep 100000")
        wait_for(lambda: link.control_up, timeout=20, message="reconnected")
        assert link.client_pids() != first_pid
        assert link.connects >= 2
        # The scraper rediscovers on this event instead of waiting for its next sweep tick.
        wait_for(lambda: "reconnected" in events, message="reconnected event")
        assert {p.session for p in link.sweep().panes} == {"two"}
    finally:
        link.stop()
    assert not control_clients(server)


def test_follows_sessions_and_detaches_when_asked(
    server: libtmux.Server, panebus_home: object
) -> None:
    server.new_session(session_name="a", window_command="exec sleep 100000")
    server.new_session(session_name="b", window_command="exec sleep 100000")
    link = ServerLink(spec(server))
    link.start()
    try:
        link.follow({"a", "b"})
        wait_for(lambda: len(control_clients(server)) == 2, message="two clients")
        link.follow({"b"})
        wait_for(lambda: len(control_clients(server)) == 1, message="one client left")
    finally:
        link.stop()
    assert not control_clients(server)


def test_no_orphan_when_owner_is_killed(session: libtmux.Session, panebus_home: object) -> None:
    """SIGKILL the process that owns a control client: the kernel reaps the client."""
    script = textwrap.dedent(
        f"""
        import signal
        from scraper.config import ServerSpec
        from scraper.control import ControlClient
        c = ControlClient(ServerSpec(socket_name={session.server.socket_name!r}),
                          {session.session_name!r})
        assert c.start(timeout=5)
        print(c.pid, flush=True)
        signal.pause()  # owns the client until the test kills it
        """
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert owner.stdout is not None
        client_pid = int(owner.stdout.readline())
        assert wait_for(lambda: control_clients(session.server), message="client attached")
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(5)
    wait_for(lambda: not control_clients(session.server), message="orphan reaped")
    wait_for(lambda: not _alive(client_pid), message="tmux -C process gone")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (reparented to init) is gone for our purposes.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:  # noqa: PTH123
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False
