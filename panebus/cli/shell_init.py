"""``panebus shell-init bash|zsh|fish`` — define ``occ``, ``acm`` and ``os`` as file reads.

``eval "$(panebus shell-init bash)"`` (or zsh; ``panebus shell-init fish | source``). Each
function reads its alias file with shell builtins only — no Python start, a few milliseconds —
substitutes the age (the file stores the observation epoch; the shell's own clock gives "now":
``printf '%(%s)T'`` in bash, ``$EPOCHSECONDS`` in zsh, ``date +%s`` in fish) and appends
``[stale]`` past the staleness epoch. It falls back to ``panebus alias NAME`` when the file is
missing or arguments are given, and runs ``panebus alias NAME --ingest`` when stdin is a pipe
or a file (``… | occ``, ``occ < screen.txt``); a terminal or ``/dev/null`` on stdin reads.
``os`` is not a command on a usual system, so the function shadows nothing.
"""

from __future__ import annotations

import shlex
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

ALIASES = ("occ", "acm", "os")

POSIX_BODY = r"""
__panebus_alias() {
  local name="$1" dir="${PANEBUS_ALIAS_DIR:-$__panebus_alias_dir}"
  local bin="${PANEBUS_BIN:-$__panebus_bin}"
  shift
  if [ -p /dev/stdin ] || [ -f /dev/stdin ]; then
    "$bin" alias "$name" --ingest "$@"
    return
  fi
  if [ "$#" -gt 0 ] || [ ! -r "$dir/$name" ]; then
    "$bin" alias "$name" "$@"
    return
  fi
  local now obs stale text age
  @NOW@
  while IFS=$'\t' read -r obs stale text; do
    if [ "$obs" -gt 0 ] 2>/dev/null; then
      age=$(( now - obs ))
      [ "$age" -lt 0 ] && age=0
      if [ "$age" -lt 60 ]; then age="${age}s ago"
      elif [ "$age" -lt 3600 ]; then age="$(( age / 60 ))m ago"
      elif [ "$age" -lt 86400 ]; then age="$(( age / 3600 ))h ago"
      else age="$(( age / 86400 ))d ago"; fi
      text="${text//@age@/$age}"
    fi
    if [ "$stale" -gt 0 ] 2>/dev/null && [ "$now" -gt "$stale" ]; then text="$text [stale]"; fi
    printf '%s\n' "$text"
  done < "$dir/$name"
}
occ() { __panebus_alias occ "$@"; }
acm() { __panebus_alias acm "$@"; }
os() { __panebus_alias os "$@"; }
"""

NOW = {
    "bash": "printf -v now '%(%s)T' -1",
    "zsh": "now=$EPOCHSECONDS",
}

FISH_BODY = r"""
function __panebus_alias
    set -l name $argv[1]
    set -e argv[1]
    set -l dir $__panebus_alias_dir
    set -q PANEBUS_ALIAS_DIR; and set dir $PANEBUS_ALIAS_DIR
    set -l bin $__panebus_bin
    set -q PANEBUS_BIN; and set bin $PANEBUS_BIN
    if test -p /dev/stdin; or test -f /dev/stdin
        $bin alias $name --ingest $argv
        return $status
    end
    if test (count $argv) -gt 0; or not test -r $dir/$name
        $bin alias $name $argv
        return $status
    end
    set -l now (date +%s)
    while read -l line
        set -l f (string split -m 2 \t -- $line)
        set -l text $f[3]
        if test "$f[1]" -gt 0 2>/dev/null
            set -l age (math "max(0, $now - $f[1])")
            if test $age -lt 60
                set age "$age"s" ago"
            else if test $age -lt 3600
                set age (math -s0 "$age / 60")"m ago"
            else if test $age -lt 86400
                set age (math -s0 "$age / 3600")"h ago"
            else
                set age (math -s0 "$age / 86400")"d ago"
            end
            set text (string replace -a '@age@' $age -- $text)
        end
        if test "$f[2]" -gt 0 2>/dev/null; and test $now -gt $f[2]
            set text "$text [stale]"
        end
        printf '%s\n' $text
    end < $dir/$name
end
function occ; __panebus_alias occ $argv; end
function acm; __panebus_alias acm $argv; end
function os; __panebus_alias os $argv; end
"""


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """``shell-init bash|zsh|fish``."""
    parser = subparsers.add_parser(
        "shell-init",
        help="print shell functions occ, acm, os (eval them in your shell rc)",
        description='Add `eval "$(panebus shell-init bash)"` to ~/.bashrc (zsh alike; fish: '
        "`panebus shell-init fish | source`).",
    )
    parser.add_argument("shell", choices=("bash", "zsh", "fish"))
    return parser


def panebus_executable() -> str:
    """The ``panebus`` the functions fall back to: this one when run as a script."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "panebus" and argv0.exists():
        return str(argv0.absolute())
    return shutil.which("panebus") or "panebus"


def script(shell: str, alias_dir: Path, executable: str) -> str:
    """The text to eval (or source) in ``shell``."""
    if shell == "fish":
        head = (
            f"set -g __panebus_alias_dir {shlex.quote(str(alias_dir))}\n"
            f"set -g __panebus_bin {shlex.quote(executable)}\n"
        )
        return head + FISH_BODY.lstrip("\n")
    head = (
        f"__panebus_alias_dir={shlex.quote(str(alias_dir))}\n"
        f"__panebus_bin={shlex.quote(executable)}\n"
    )
    if shell == "zsh":
        head += "zmodload -F zsh/datetime p:EPOCHSECONDS 2>/dev/null\n"
    return head + POSIX_BODY.lstrip("\n").replace("@NOW@", NOW[shell])


def run(args: argparse.Namespace) -> int:
    """Print the functions for the chosen shell."""
    from bus.paths import Paths
    from sinks.config import SinksConfig

    alias_dir = SinksConfig.load(Paths.from_env()).alias_dir
    sys.stdout.write(script(args.shell, alias_dir, panebus_executable()))
    return 0
