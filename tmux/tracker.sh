#!/bin/sh
# The tracker layout in plain tmux (no tmuxp, no Python needed to start it).
#
#   tmux/tracker.sh [-L SOCKET] [-s SESSION] [--demo] [--attach]
#
# tmux window "agents": Codex | Claude Code. tmux window "usage": claude-monitor on top,
# `panebus up` and `panebus top` below. The real `codex`, `claude` and `claude-monitor` run when they are
# on PATH; otherwise (or with --demo) the panebus stand-ins draw look-alike screens.
# `panebus up` watches the same tmux server the layout runs on (-L is passed through).
set -eu

socket=""
session="tracker"
demo=0
attach=0
while [ $# -gt 0 ]; do
    case "$1" in
        -L) socket="$2"; shift 2 ;;
        -s) session="$2"; shift 2 ;;
        --demo) demo=1; shift ;;
        --attach) attach=1; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "tracker.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

# The Python that has panebus: $PANEBUS_PYTHON, else the one beside the panebus script.
python="${PANEBUS_PYTHON:-}"
if [ -z "$python" ] && command -v panebus >/dev/null 2>&1; then
    candidate="$(dirname "$(command -v panebus)")/python"
    [ -x "$candidate" ] && python="$candidate"
fi
[ -n "$python" ] || python="python3"

tmux_() {
    if [ -n "$socket" ]; then tmux -L "$socket" "$@"; else tmux "$@"; fi
}

agent() {  # agent NAME REAL_COMMAND...
    name="$1"; shift
    if [ "$demo" -eq 0 ] && command -v "$1" >/dev/null 2>&1; then
        echo "$*"
    else
        echo "exec $python -m panebus.demo.agents $name"
    fi
}

server_args=""
[ -n "$socket" ] && server_args="-L $socket"
env_args=""
[ -n "${PANEBUS_HOME:-}" ] && env_args="-e PANEBUS_HOME=$PANEBUS_HOME"

if tmux_ has-session -t "=$session" 2>/dev/null; then
    echo "tracker.sh: session $session exists already (tmux attach -t $session)" >&2
    exit 1
fi

# shellcheck disable=SC2086  # env_args and server_args are word lists on purpose
tmux_ new-session -d -s "$session" -n agents -x 241 -y 50 $env_args \
    "$(agent codex codex)"
tmux_ split-window -h -t "$session:agents" $env_args "$(agent claude claude)"
tmux_ new-window -t "$session" -n usage $env_args \
    "$(agent monitor claude-monitor --plan max5 --view realtime)"
tmux_ set-option -w -t "$session:usage" remain-on-exit on
up_pane="$(tmux_ split-window -v -P -F '#{pane_id}' -t "$session:usage" $env_args \
    "exec $python -m panebus up $server_args")"
tmux_ split-window -h -t "$up_pane" $env_args \
    "exec $python -m panebus top"
tmux_ select-window -t "$session:agents"

echo "tracker layout started: tmux ${socket:+-L $socket }attach -t $session"
if [ "$attach" -eq 1 ]; then
    tmux_ attach -t "$session"
fi
