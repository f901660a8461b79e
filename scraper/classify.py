"""Decide which panes run an agent, and say which rule decided it.

Rules, in order (the first that answers wins; ``panebus panes --explain`` prints the rule):

1. ``config`` — an explicit ``[[targets]]`` entry (can also exclude a pane: provider ``none``).
2. ``command`` — tmux's current command: ``codex``, ``claude``, ``claude-monitor``/``cmonitor``/
   ``ccm``; ``command-version`` — a bare version such as ``2.1.197`` (Claude's native installer
   runs ``versions/<version>``).
3. ``process`` — the pane's foreground process group read from ``/proc``: ``node`` (npm shim)
   whose child is the native ``codex``, ``env HOME=… codex``, ``python … claude_monitor``.
4. ``title`` — ``✳ Claude Code`` (any leading spinner glyph), a title starting with ``Codex``.
5. ``screen`` — the captured text, recognised by the parsers' registry.

Why a process walk rather than trusting the command: tmux reports the process group leader's
``argv[0]``, which is ``node`` or ``env`` for npm installs (see the pane identification
fixtures). Reading ``/proc`` is a few small file reads per pane, no subprocess.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import logging
import re
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from scraper.config import TargetRule
    from scraper.discovery import PaneInfo

logger = logging.getLogger(__name__)

CODEX_NAMES = frozenset({"codex", "codex-cli"})
CLAUDE_NAMES = frozenset({"claude", "claude-code", "claude.exe"})
MONITOR_NAMES = frozenset(
    {"claude-monitor", "cmonitor", "ccm", "ccmonitor", "claude_monitor", "claude-code-monitor"}
)
#: Programs that run another program named in their arguments (the script is the agent).
LAUNCHERS = frozenset(
    {"node", "nodejs", "bun", "deno", "env", "npx", "npm", "pnpm", "yarn", "uv", "uvx", "pipx",
     "sh", "bash", "dash", "zsh", "fish", "ksh", "exec"}
)
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "fish", "ksh", "tcsh", "csh"})
VERSION_COMMAND = re.compile(r"^\d+\.\d+\.\d+(?:[-+][\w.]+)?$")
PYTHON_COMMAND = re.compile(r"^python(?:\d+(?:\.\d+)?)?$")
CLAUDE_TITLE = re.compile(r"^\W{0,3}\s*Claude Code\b")
CODEX_TITLE = re.compile(r"^\W{0,3}\s*Codex\b")
MAX_PROCESSES = 64
SCREEN_CACHE_SIZE = 4096


@dataclasses.dataclass(frozen=True)
class Classification:
    """The verdict on one pane: ``provider`` is None for a pane that is not an agent."""

    provider: str | None
    rule: str
    detail: str

    @property
    def is_agent(self) -> bool:
        """Whether the pane is watched."""
        return self.provider is not None


@dataclasses.dataclass(frozen=True)
class Process:
    """What ``/proc/<pid>`` says about one process."""

    pid: int
    ppid: int
    pgrp: int
    tpgid: int
    comm: str
    argv: tuple[str, ...]


def names_of(process: Process) -> list[str]:
    """The program names a process stands for: comm, argv[0], and a launcher's script."""
    names = [process.comm]
    if process.argv:
        names.append(Path(process.argv[0]).name)
        if _base(process.argv[0]) in LAUNCHERS or PYTHON_COMMAND.match(_base(process.argv[0])):
            names.extend(_launched(process.argv[1:]))
    return [name for name in names if name]


def _base(arg: str) -> str:
    return Path(arg).name


def _launched(args: t.Sequence[str]) -> list[str]:
    """Script or module names in a launcher's arguments (skipping options and VAR=value)."""
    found = []
    for index, arg in enumerate(args):
        if arg == "-m" and index + 1 < len(args):
            found.append(args[index + 1].split(".")[0])
            break
        if arg.startswith("-") or ("=" in arg and not arg.startswith("/")):
            continue
        found.append(_base(arg))
        # A launcher's first program argument is what runs; `env … node script` goes on.
        if _base(arg) not in LAUNCHERS and not PYTHON_COMMAND.match(_base(arg)):
            break
    return found


def provider_of_name(name: str) -> str | None:
    """The provider a program name stands for, if any."""
    lowered = name.lower()
    if lowered in MONITOR_NAMES:
        return "claude-monitor"
    if lowered in CODEX_NAMES:
        return "codex"
    if lowered in CLAUDE_NAMES:
        return "claude"
    return None


def match_target(pane: PaneInfo, rule: TargetRule) -> bool:
    """Whether every field the config rule gives matches the pane (shell-style globs)."""
    checks = (
        (rule.pane, (pane.pane_id,)),
        (rule.session, (pane.session,)),
        (rule.tmux_window, (pane.window_index, pane.window_name)),
        (rule.title, (pane.title,)),
        (rule.command, (pane.command,)),
    )
    return all(
        pattern is None or any(fnmatch.fnmatchcase(value, pattern) for value in values)
        for pattern, values in checks
    )


class ProcReader:
    """Reads ``/proc`` for the process rule. One instance per sweep: it caches the table.

    The kernel here may lack ``/proc/<pid>/task/<tid>/children``, so the members of a
    foreground process group are found from one scan of ``/proc/*/stat``, done at most once
    per sweep and only when a pane's group leader is not itself recognised.
    """

    def __init__(self, root: Path = Path("/proc")) -> None:
        self.root = root
        self._cache: dict[int, Process | None] = {}
        self._table: list[Process] | None = None

    def read(self, pid: int) -> Process | None:
        """One process, or None when it is gone or unreadable."""
        if pid not in self._cache:
            self._cache[pid] = self._read(pid)
        return self._cache[pid]

    def _read(self, pid: int) -> Process | None:
        base = self.root / str(pid)
        try:
            stat = (base / "stat").read_bytes().decode("utf-8", "replace")
            raw_argv = (base / "cmdline").read_bytes()
        except OSError:
            return None
        open_paren, close_paren = stat.find("("), stat.rfind(")")
        fields = stat[close_paren + 2 :].split()
        if open_paren < 0 or close_paren < 0 or len(fields) < 6:
            return None
        try:
            ppid, pgrp, tpgid = int(fields[1]), int(fields[2]), int(fields[5])
        except ValueError:
            return None
        argv = tuple(part.decode("utf-8", "replace") for part in raw_argv.split(b"\0") if part)
        return Process(
            pid=pid,
            ppid=ppid,
            pgrp=pgrp,
            tpgid=tpgid,
            comm=stat[open_paren + 1 : close_paren],
            argv=argv,
        )

    def table(self) -> list[Process]:
        """Every readable process (scanned once per reader)."""
        if self._table is None:
            processes = []
            try:
                entries = [entry.name for entry in self.root.iterdir()]
            except OSError:
                entries = []
            for entry in entries:
                if entry.isdigit():
                    process = self.read(int(entry))
                    if process is not None:
                        processes.append(process)
            self._table = processes
        return self._table

    def foreground(self, pane_pid: int) -> list[Process]:
        """The pane's foreground process group: its leader first, then the other members
        that descend from the pane's process (capped at :data:`MAX_PROCESSES`)."""
        top = self.read(pane_pid)
        if top is None:
            return []
        group = top.tpgid if top.tpgid > 0 else top.pgrp
        leader = self.read(group) or top
        members = [leader]
        if leader.pid == pane_pid and _is_interactive_shell(leader):
            return members  # a shell at its prompt: no scan of /proc needed
        descendants = self._descendants(pane_pid)
        members.extend(
            process
            for process in descendants
            if process.pgrp == group and process.pid != leader.pid
        )
        return members[:MAX_PROCESSES]

    def _descendants(self, pid: int) -> list[Process]:
        by_parent: dict[int, list[Process]] = {}
        for process in self.table():
            by_parent.setdefault(process.ppid, []).append(process)
        found: list[Process] = []
        todo = [pid]
        while todo and len(found) < MAX_PROCESSES:
            for child in by_parent.get(todo.pop(), []):
                found.append(child)
                todo.append(child.pid)
        return found


def classify(
    pane: PaneInfo,
    targets: t.Sequence[TargetRule] = (),
    proc: ProcReader | None = None,
    screen: str | None = None,
    detect: t.Callable[[str], str | None] | None = None,
) -> Classification:
    """Apply the rules in order; ``screen``/``detect`` enable the last rule."""
    for index, rule in enumerate(targets):
        if match_target(pane, rule):
            provider = None if rule.provider == "none" else rule.provider
            return Classification(provider, "config", f"targets[{index}] → {rule.provider}")
    if pane.dead:
        return Classification(None, "dead", "pane is dead (remain-on-exit)")
    by_command = provider_of_name(pane.command)
    if by_command is not None:
        return Classification(by_command, "command", f"current command {pane.command!r}")
    if VERSION_COMMAND.match(pane.command):
        return Classification(
            "claude", "command-version", f"current command {pane.command!r} is a bare version"
        )
    if proc is not None and pane.pid is not None:
        found = _by_process(pane.pid, proc)
        if found is not None:
            return found
    if CLAUDE_TITLE.match(pane.title):
        return Classification("claude", "title", f"title {pane.title!r}")
    if CODEX_TITLE.match(pane.title):
        return Classification("codex", "title", f"title {pane.title!r}")
    if screen is not None and detect is not None:
        provider = detect(screen)
        if provider in ("codex", "claude", "claude-monitor"):
            return Classification(provider, "screen", f"screen text looks like {provider}")
    return Classification(None, "none", f"current command {pane.command!r}; no rule matched")


def _is_interactive_shell(process: Process) -> bool:
    program = process.argv[0] if process.argv else process.comm
    return _base(program).lstrip("-") in SHELLS and len(process.argv) <= 1


def _by_process(pane_pid: int, proc: ProcReader) -> Classification | None:
    for process in proc.foreground(pane_pid):
        for name in names_of(process):
            provider = provider_of_name(name)
            if provider is not None:
                return Classification(
                    provider,
                    "process",
                    f"pid {process.pid} ({' '.join(process.argv[:3])[:80] or process.comm}) "
                    f"in the foreground group is {name!r}",
                )
        exe_version = _versioned_claude(process)
        if exe_version:
            return Classification("claude", "process", f"pid {process.pid} runs {exe_version}")
    return None


def _versioned_claude(process: Process) -> str | None:
    """Claude's native install runs ``…/claude/versions/2.1.197`` (argv[0] is that path)."""
    if process.argv and VERSION_COMMAND.match(_base(process.argv[0])):
        parent = Path(process.argv[0]).parent
        if parent.name == "versions" and "claude" in str(parent).lower():
            return process.argv[0]
    return None


def classify_all(
    panes: t.Iterable[PaneInfo],
    targets: t.Sequence[TargetRule],
    proc: ProcReader,
    *,
    capture: t.Callable[[PaneInfo], str | None] | None = None,
    detect: t.Callable[[str], str | None] | None = None,
    screen_cache: dict[tuple[str, str, int | None, str], Classification] | None = None,
) -> list[tuple[PaneInfo, Classification]]:
    """Classify a sweep. The screen rule captures a pane only when no other rule answered,
    and once per pane identity (server, id, pid, command) when ``screen_cache`` is given."""
    results = []
    for pane in panes:
        verdict = classify(pane, targets, proc)
        if not verdict.is_agent and verdict.rule == "none" and capture and detect:
            identity = (pane.server, pane.pane_id, pane.pid, pane.command)
            cached = screen_cache.get(identity) if screen_cache is not None else None
            if cached is None:
                text = capture(pane)
                if text is not None:
                    cached = classify(pane, targets, proc, screen=text, detect=detect)
                    if screen_cache is not None:
                        if len(screen_cache) > SCREEN_CACHE_SIZE:
                            screen_cache.clear()
                        screen_cache[identity] = cached
            verdict = cached or verdict
        results.append((pane, verdict))
    return results
