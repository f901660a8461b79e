"""Screen templates of the stand-in agents, copied from real renders of the real programs.

Wording, glyphs, column alignment and colours follow ``../shared/fixtures/screens``: Codex CLI
0.169 (borderless composer with ``›``, borderless ``/status`` card with ``% left``), Claude
Code 2.1 (``❯`` prompt between two rules, the ``/usage`` tab with ``% used`` rows) and
claude-monitor 4.0 (``--view realtime --plan max5``). Each function is pure: figures and sizes
in, a list of lines (with ANSI SGR escapes) out; :mod:`panebus.demo.agents` paints them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import typing as t

if t.TYPE_CHECKING:
    from panebus.demo.figures import Monitor, Window

CODEX_VERSION = "0.169.0"
CLAUDE_VERSION = "2.1.197"
MONITOR_VERSION = "4.0.0"
CODEX_MODEL = "GPT-6.1-Sol"
CLAUDE_MODEL = "Opus 4.8 (1M context)"

RESET = "\033[0m"
DIM = "\033[2m"
BOLD = "\033[1m"
REVERSE = "\033[7m"
NBSP = "\u00a0"

CODEX_PLACEHOLDER = "Ask Codex to do anything"
CODEX_PROMPT = "›"
CLAUDE_PROMPT = "❯"
SPINNER_CODEX = ("•", "◦")
SPINNER_CLAUDE = ("·", "✢", "✳", "✶", "✻", "✽")

CODEX_LOGO = (
    "           ⣀⣤⣤⣤⣀⣀",
    "        ⣠⣶⣿⣿⣿⣿⣿⣿⣿⣿⣦⣤⣤⣤⣤⣤⣤⡀",
    "      ⢀⣾⣿⣿⠿⠋⠉⠉⢉⣭⣿⣿⣿⣿⣿⠿⣿⣿⣿⣿⣷⣄",
    "     ⣀⣾⣿⣿⠃ ⣀⣴⣾⣿⣿⡿⠟⠋ ⣀⡀ ⠈⠙⢿⣿⣿⣧",
    "  ⣀⣶⣿⣿⣿⣿⡇ ⢸⣿⣿⡿⠛⠉⢀⣠⣴⣿⣿⣿⣷⣦⣀⠈⢻⣿⣿⡇",
    " ⣰⣿⣿⡿⢿⣿⣿⡇ ⢸⣿⣿⢀⣤⣶⣿⣿⣿⠟⠛⠻⣿⣿⣿⣿⣮⣿⣿⡷",
    "⢰⣿⣿⡟⠁⢸⣿⣿⡇ ⢸⣿⣿⣿⣿⠿⠿⣿⣿⣿⣦⣄⡀⠈⠛⠿⣿⣿⣿⣧⡀",
    "⣾⣿⣿⠃ ⢸⣿⣿⡇ ⢸⣿⣿⠋⠁  ⠈⠙⢻⣿⣿⣿⣶⣤⡀ ⠹⢿⣿⣷⡄",
    "⢸⣿⣿⣇ ⠸⣿⣿⣷⣦⣼⣿⣿      ⢸⣿⣿⠻⢿⣿⣿⡇ ⠘⣿⣿⣿",
    "⠈⢿⣿⣿⣦⡀⠈⠛⠿⣿⣿⣿⣿⣄⡀  ⢀⣠⣼⣿⣿  ⣿⣿⡇  ⣿⣿⣿⠇",
    "  ⢻⣿⣿⣿⣷⣦⣀⠈⠙⠻⣿⣿⣿⣶⣶⣿⣿⣿⣿⣿  ⣿⣿⡇ ⣠⣿⣿⣿",
    "  ⢸⣿⣿⡿⢿⣿⣿⣿⣦⣠⣴⣿⣿⣿⡿⠟⠋⢸⣿⣿  ⣿⣿⣷⣴⣿⣿⣿⠃",
    "  ⠘⣿⣿⣷ ⠈⠛⢿⣿⣿⣿⠿⠋⠉ ⣠⣴⣿⣿⣿  ⣿⣿⣿⣿⣿⠟⠁",
    "   ⠻⣿⣿⣿⣤⣀ ⠈⠉ ⢀⣤⣶⣿⣿⣿⠿⠟⠁ ⣰⣿⣿⡟⠋⠁",
    "    ⠈⠿⣿⣿⣿⣿⣶⣾⣿⣿⣿⣿⠟⠋⠁  ⣠⣼⣿⣿⡟",
    "       ⠙⠛⠛⠛⠻⠛⢿⣿⣿⣿⣿⣷⣾⣿⣿⣿⡿⠏",
    "              ⠈⠙⠛⠿⠿⠿⠿⠛⠉",
)
CLAUDE_LOGO = (" ▐▛███▜▌", "▝▜█████▛▘", "  ▘▘ ▝▝  ")

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclasses.dataclass(frozen=True)
class PromptView:
    """What an agent's prompt screen shows: size, directory, transcript, prompt, the turn."""

    width: int
    height: int
    cwd: str
    transcript: t.Sequence[str]
    prompt: str
    working_for: float | None = None  # seconds into the turn; None when idle


def fg(code: int) -> str:
    """256-colour foreground, as the real programs write it."""
    return f"\033[38;5;{code}m"


def plain(line: str) -> str:
    """The line without SGR escapes (what ``capture-pane`` without ``-e`` returns)."""
    return _ANSI.sub("", line)


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes: emoji and wide glyphs count two, variation selectors 0."""
    width = 0
    for char in plain(text):
        code = ord(char)
        if code in (0xFE0F, 0x200D):
            continue
        width += 2 if code >= 0x1F300 else 1
    return width


# ----------------------------------------------------------------------------- Codex 0.169


def codex_reset_text(resets_at: dt.datetime, now: dt.datetime) -> str:
    """``08:44`` today, ``11:24 on 28 Nov`` another day (24-hour clock, local zone)."""
    local = resets_at.astimezone(now.tzinfo)
    clock = local.strftime("%H:%M")
    if local.date() == now.date():
        return clock
    return f"{clock} on {local.day} {local.strftime('%b')}"


def codex_bar(left_pct: int) -> str:
    """Twenty cells filled with what is LEFT (Codex ≥ 0.58), rounded like Codex does."""
    filled = round(max(0, min(100, left_pct)) / 100 * 20)
    return "[" + "█" * filled + "░" * (20 - filled) + "]"


def _codex_field(label: str, value: str) -> str:
    return f"{DIM}  {label:<20} {RESET}{value}"


def codex_status_card(
    five_hour: Window,
    weekly: Window,
    now: dt.datetime,
    *,
    cwd: str,
    session_id: str,
    width: int = 120,
) -> list[str]:
    """The borderless 0.169 ``/status`` card, preceded by the echoed command.

    Below about 60 columns Codex drops the bars and keeps the figures.
    """
    limits = []
    for label, window in (("5h limit:", five_hour), ("Weekly limit:", weekly)):
        reset = codex_reset_text(window.resets_at, now)
        bar = f"{codex_bar(window.left_pct)} " if width >= 60 else ""
        row = f"{DIM}  {label:<20} {RESET}{bar}{window.left_pct}% left"
        phrase = f"(resets {reset})"
        if cell_width(row) + 1 + len(phrase) <= width:
            limits.append(f"{row}{DIM} {phrase}{RESET}")
        else:  # narrow panes: the reset phrase wraps to the next line(s), under the value
            indent = max(2, min(23, width - len(phrase)))
            limits.append(row)
            limits += [f"{DIM}{part}{RESET}" for part in wrap_to(" " * indent + phrase, width)]
    return [
        f"{fg(5)}/status{RESET}",
        "",
        f"  {fg(75)}>_ {BOLD}\033[39mOpenAI Codex\033[0;2m (v{CODEX_VERSION}){RESET}",
        "",
        f"  {fg(75)}Visit \033[4mhttps://chatgpt.com/settings/usage\033[24m for up-to-date{RESET}",
        f"  {fg(75)}information on rate limits and credits{RESET}",
        "",
        _codex_field("Model:", f"{CODEX_MODEL}{DIM} (reasoning low){RESET}"),
        _codex_field("Model provider:", "openai"),
        _codex_field("Directory:", cwd),
        _codex_field("Permissions:", "Workspace (Ask for approval)"),
        _codex_field("Agents.md:", "<none>"),
        _codex_field("Account:", "demo.user@example.com (Plus)"),
        _codex_field("Collaboration mode:", "Default"),
        _codex_field("Session:", session_id),
        "",
        *limits,
        "",
    ]


def codex_screen(view: PromptView) -> tuple[list[str], tuple[int, int]]:
    """The whole Codex screen and the cursor (row, column) in the composer."""
    width, height, cwd, prompt, working_for = (
        view.width,
        view.height,
        view.cwd,
        view.prompt,
        view.working_for,
    )
    top = ["", f"  {fg(75)}>_ {BOLD}\033[39mOpenAI Codex\033[0;2m (v{CODEX_VERSION}){RESET}"]
    top += [f"     {DIM}{cwd}{RESET}", ""]
    if prompt:
        composer = f"{BOLD}{CODEX_PROMPT}{RESET} {prompt}"
    else:
        composer = f"{BOLD}{CODEX_PROMPT}{RESET} {DIM}{CODEX_PLACEHOLDER}{RESET}"
    footer = [
        composer,
        "",
        f"  {fg(223)}{CODEX_MODEL} default\033[39m · {fg(151)}{cwd}\033[39m",
        f"  {BOLD}←{RESET} for agents · {BOLD}?{RESET} for shortcuts",
    ]
    if working_for is not None:
        seconds = int(working_for)
        glyph = SPINNER_CODEX[seconds % 2]
        footer = [f"{glyph} {BOLD}Working{RESET} {DIM}({seconds}s • esc to interrupt){RESET}", ""]
        footer += [
            composer,
            "",
            f"  {fg(223)}{CODEX_MODEL} default\033[39m · {fg(151)}{cwd}\033[39m",
            f"  {BOLD}←{RESET} for agents · {BOLD}?{RESET} for shortcuts",
        ]
    body = list(view.transcript)
    if not body and height - len(top) - len(footer) >= len(CODEX_LOGO) + 2 and width >= 80:
        indent = max(0, (width - 33) // 2)
        pad = (height - len(top) - len(footer) - len(CODEX_LOGO)) // 2
        body = [""] * pad + [f"{' ' * indent}{DIM}{row}{RESET}" for row in CODEX_LOGO]
    room = max(0, height - len(top) - len(footer))
    body = body[-room:] if room else []
    lines = top + body + [""] * (room - len(body)) + footer
    lines = lines[-height:]
    cursor_row = len(lines) - len(footer) + footer.index(composer)
    return lines, (cursor_row, 2 + cell_width(prompt))


# ----------------------------------------------------------------------------- Claude Code 2.1


def claude_reset_text(resets_at: dt.datetime, now: dt.datetime, zone_name: str | None) -> str:
    """``4:59am`` today, ``Nov 28, 11:59am`` another day; ``(Area/City)`` when known."""
    local = resets_at.astimezone(now.tzinfo)
    hour = local.hour % 12 or 12
    meridiem = "am" if local.hour < 12 else "pm"
    clock = f"{hour}{meridiem}" if local.minute == 0 else f"{hour}:{local.minute:02d}{meridiem}"
    text = clock if local.date() == now.date() else f"{local.strftime('%b')} {local.day}, {clock}"
    return f"{text} ({zone_name})" if zone_name else text


def claude_bar(used_pct: int, cells: int = 50) -> str:
    """``cells`` wide (fifty in wide panes), a half block for half a cell."""
    used = max(0, min(100, used_pct))
    full, half = divmod(used * cells * 2 // 100, 2)
    drawn = "█" * full + ("▌" if half else "")
    return f"{fg(153)}\033[48;5;102m{drawn:<{cells}}\033[39m\033[49m"


def _claude_banner(cwd: str) -> list[str]:
    left, mid, low = CLAUDE_LOGO
    return [
        f"{fg(174)}{left}\033[39m   {BOLD}Claude{RESET} {BOLD}Code{RESET} "
        f"{fg(246)}v{CLAUDE_VERSION}\033[39m",
        f"{fg(174)}{mid}\033[39m  {fg(246)}{CLAUDE_MODEL} · Claude Max\033[39m",
        f"{fg(174)}{low}\033[39m  {fg(246)}{cwd}\033[39m",
        "",
        "",
    ]


def claude_screen(view: PromptView) -> tuple[list[str], tuple[int, int]]:
    """Claude Code at its prompt: banner, transcript, the ``❯`` box between two rules."""
    width, height, prompt, working_for = view.width, view.height, view.prompt, view.working_for
    rule = f"{fg(244)}{'─' * width}\033[39m"
    box = [
        rule,
        f"{CLAUDE_PROMPT}{NBSP}{prompt}{REVERSE} {RESET}",
        rule,
        f"  {fg(246)}? for shortcuts · ← for agents\033[39m",
    ]
    if working_for is not None:
        seconds = int(working_for)
        glyph = SPINNER_CLAUDE[seconds % len(SPINNER_CLAUDE)]
        box = [
            f"{fg(174)}{glyph} Thinking…\033[39m {DIM}({seconds}s · esc to interrupt){RESET}",
            "",
            *box,
        ]
    lines = _claude_banner(view.cwd) + list(view.transcript) + box
    lines = lines[-height:]
    cursor_row = len(lines) - 3
    return lines, (cursor_row, 2 + cell_width(prompt))


def claude_usage_screen(
    *,
    width: int,
    height: int,
    cwd: str,
    session: Window,
    week_all: Window,
    week_sonnet: Window,
    now: dt.datetime,
    zone_name: str | None,
    wall_seconds: int,
) -> list[str]:
    """The 2.1 ``/usage`` tab (Settings · Status · Config · Usage · Stats)."""
    rows: list[str] = []
    for title, window in (
        ("Current session", session),
        ("Current week (all models)", week_all),
        ("Current week (Sonnet only)", week_sonnet),
    ):
        reset = claude_reset_text(window.resets_at, now, zone_name)
        if width >= 64:
            rows += [
                f"  {BOLD}{title}{RESET}",
                f"  {claude_bar(window.used_pct)} {window.used_pct}% used",
                f"  {fg(246)}Resets {reset}\033[39m",
                "",
            ]
        else:  # narrow panes: title and reset on one line, the figure on its own line
            head = wrap_to(f"  {title} · Resets {reset}", width)
            rows += [head[0].rstrip(), *(f"  {part}" for part in head[1:])]
            rows += [
                f"  {claude_bar(window.used_pct, max(10, width - 4))}",
                f"  {window.used_pct}% used",
                "",
            ]
    lines = [
        *_claude_banner(cwd),
        f"{fg(239)}\033[48;5;237m{CLAUDE_PROMPT} {fg(231)}/usage\033[39m\033[49m",
        "",
        f"{fg(153)}{'─' * width}\033[39m",
        f"  {BOLD}{fg(153)}Settings{RESET}  Status   Config  {BOLD}{fg(16)}\033[48;5;153m Usage "
        f"{RESET}  Stats",
        "",
        f"  {BOLD}Session{RESET}",
        "",
        f"  {fg(246)}Total cost:            $0.0000\033[39m",
        f"  {fg(246)}Total duration (API):  0s\033[39m",
        f"  {fg(246)}Total duration (wall): {wall_seconds}s\033[39m",
        f"  {fg(246)}Total code changes:    0 lines added, 0 lines removed\033[39m",
        f"  {fg(246)}Usage:                 0 input, 0 output, 0 cache read, 0 cache write\033[39m",
        "",
        *rows,
        f"  {BOLD}Usage credits{RESET}",
        f"  {fg(246)}Usage credits are off · /usage-credits to turn them on\033[39m",
        "",
        f"  {fg(246)}Esc to cancel\033[39m",
    ]
    return lines[-height:]


# ----------------------------------------------------------------------------- claude-monitor 4.0


def _monitor_dot(pct: float) -> str:
    if pct >= 90:
        return "🔴"
    if pct >= 50:
        return "🟡"
    return "🟢"


def _monitor_bar(pct: float) -> str:
    filled = min(50, math.floor(max(0.0, pct) / 2))
    return "[" + "█" * filled + "░" * (50 - filled) + "]"


def _twelve_hour(moment: dt.datetime, *, seconds: bool) -> str:
    hour = moment.hour % 12 or 12
    tail = f":{moment.second:02d}" if seconds else ""
    return f"{hour}:{moment.minute:02d}{tail} {'AM' if moment.hour < 12 else 'PM'}"


def wrap_to(line: str, width: int) -> list[str]:
    """Wrap at the last space that fits, as claude-monitor does with its own long lines."""
    out: list[str] = []
    rest = line
    while cell_width(rest) > width:
        cut = len(rest)
        while cut > 0 and cell_width(rest[:cut]) > width:
            cut -= 1
        space = rest.rfind(" ", 0, cut)
        split = space + 1 if space > 0 else cut
        out.append(rest[:split])
        rest = rest[split:]
    out.append(rest)
    return out


def monitor_screen(
    *, width: int, height: int, figures: Monitor, now: dt.datetime, zone_label: str
) -> list[str]:
    """claude-monitor 4.0 ``--view realtime --plan max5`` with an active session."""
    cost_pct = figures.cost_used / figures.cost_limit * 100
    token_pct = figures.tokens_used / figures.tokens_limit * 100
    message_pct = figures.messages_used / figures.messages_limit * 100
    left = max(dt.timedelta(0), figures.resets_at - now)
    hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
    elapsed_pct = 100 - left.total_seconds() / (5 * 3600) * 100
    rule = "─" * 60
    burn = figures.burn_rate
    reset_local = figures.resets_at.astimezone(now.tzinfo)
    run_out = now + dt.timedelta(
        minutes=max(0.0, figures.tokens_limit - figures.tokens_used) / max(burn, 1.0)
    )
    lines = [
        "✦ ✧ ✦ ✧ CLAUDE CODE USAGE MONITOR ✦ ✧ ✦ ✧",
        "=" * 60,
        f"[ max5 | {zone_label} ]",
        "",
        "",
        "",
        f"💰 Cost Usage:           {_monitor_dot(cost_pct)} {_monitor_bar(cost_pct)} "
        f"{cost_pct:.1f}%    ${figures.cost_used:,.2f} / ${figures.cost_limit:,.2f}",
        "",
        f"📊 Token Usage:          {_monitor_dot(token_pct)} {_monitor_bar(token_pct)} "
        f"{token_pct:.1f}% (local estimate)    {figures.tokens_used:,} / {figures.tokens_limit:,}",
        "",
        f"📨 Messages Usage:       {_monitor_dot(message_pct)} {_monitor_bar(message_pct)} "
        f"{message_pct:.1f}%    {figures.messages_used:,} / {figures.messages_limit:,}",
        rule,
        f"⏱️ Time to Reset:        {_monitor_dot(elapsed_pct)} {_monitor_bar(elapsed_pct)} "
        f"{hours}h {minutes}m",
        "",
        f"🤖 Model Distribution:   🤖 {_monitor_bar(100.0)} "
        "Sonnet 30.0% | Opus 51.0% | Haiku 19.0%",
        rule,
        f"🔥 Burn Rate:              {burn:.1f} tokens/min ⚡",
        f"💲 Cost Rate:              ${burn * 0.0002165:.4f} $/min",
        "",
        "🔮 Predictions:",
        f"   Tokens will run out: Today {_twelve_hour(run_out, seconds=False)} (estimated)",
        f"   Limit resets at:     {_twelve_hour(reset_local, seconds=False)}",
        "",
        f"⏰ {_twelve_hour(now, seconds=True)} 📝 Active session | Ctrl+C to exit 🟢",
    ]
    wrapped = [part for line in lines for part in wrap_to(line, width)]
    return wrapped[:height]


def monitor_idle_screen(*, height: int, now: dt.datetime, zone_label: str) -> list[str]:
    """claude-monitor 4.0 with no active session: no percentages to read."""
    lines = [
        "✦ ✧ ✦ ✧ CLAUDE CODE USAGE MONITOR ✦ ✧ ✦ ✧",
        "=" * 60,
        f"[ max5 | {zone_label} ]",
        "",
        f"📊 Token Usage:    🟢 {_monitor_bar(0.0)} 0.0%",
        "",
        "🎯 Tokens:         -- / ~88,000 (-- left)",
        "🔥 Burn Rate:      0.0 tokens/min",
        "💲 Cost Rate:      $0.00 $/min",
        "📨 Sent Messages:  0 messages",
        "",
        f"⏰ {_twelve_hour(now, seconds=True)} 📝 No active session | Ctrl+C to exit 🟨",
    ]
    return lines[:height]
