"""Claude Code screens: every fixture plus variants derived from the format rules.

Expected values were written by reading the screens (fixtures README: Claude ran in
America/New_York; observed_at from its table).
"""

from __future__ import annotations

import datetime as dt
import typing as t
import zoneinfo

import pytest

from panebus.demo.screens import wrap_to
from scraper.parsers.claude import ClaudeParser, pane_state
from tests import FIXTURES

SCREENS = FIXTURES / "screens" / "claude"
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = dt.timezone.utc

# (window, scope, used_pct, resets_at ISO or None)
Expected = tuple[str, "str | None", "float | None", "str | None"]

CARD_LIMITS: list[Expected] = [
    ("5h", None, 37.0, "2026-11-25T04:59:00-05:00"),
    ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
    ("weekly", "sonnet only", 12.0, "2026-11-28T11:59:00-05:00"),
]


def _at(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def _limits(usage: t.Any) -> list[Expected]:
    return [
        (lim.window, lim.scope, lim.used_pct, lim.resets_at.isoformat() if lim.resets_at else None)
        for lim in usage.limits
    ]


def _same_limits(got: list[Expected], want: list[Expected]) -> None:
    """Compare limits, resets as instants (the offset a parser reports them in may differ)."""
    assert [g[:3] for g in got] == [w[:3] for w in want]
    for g, w in zip(got, want, strict=True):
        assert (g[3] is None) == (w[3] is None), (g, w)
        if g[3] is not None and w[3] is not None:
            assert _at(g[3]) == _at(w[3]), (g, w)


class FixtureCase(t.NamedTuple):
    test_id: str
    name: str
    observed_at: str
    screen: str
    state: str
    state_reason: str
    version: str
    model: str
    limits: list[Expected]


FIXTURE_CASES = [
    FixtureCase(
        "2.1-usage",
        "claude-code-2.1.197-usage-tab-max-120x40",
        "2026-11-25T06:39:11Z",
        "claude.usage",
        "idle",
        "/usage dialog",
        "2.1.197",
        "Opus 4.8 (1M context)",
        CARD_LIMITS,
    ),
    FixtureCase(
        "2.0-usage",
        "claude-code-2.0.76-usage-tab-max-120x40",
        "2026-11-25T06:41:48Z",
        "claude.usage",
        "idle",
        "/usage dialog",
        "2.0.76",
        "Opus 4.5",
        CARD_LIMITS,
    ),
    FixtureCase(
        "2.1-main-idle",
        "claude-code-2.1.197-main-idle-max",
        "2026-11-25T06:38:56Z",
        "claude.main",
        "idle",
        "prompt",
        "2.1.197",
        "Opus 4.8 (1M context)",
        [],
    ),
]


def _fixture(name: str) -> str:
    path = SCREENS / name
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("suffix", [".txt", ".ansi.txt"])
@pytest.mark.parametrize("case", FIXTURE_CASES, ids=[c.test_id for c in FIXTURE_CASES])
def test_fixture(case: FixtureCase, suffix: str) -> None:
    text = _fixture(case.name + suffix)
    parser = ClaudeParser()
    assert parser.detect(text)
    usage = parser.parse(text, _at(case.observed_at), NEW_YORK)
    assert usage.provider == "claude"
    assert usage.screen == case.screen
    assert (usage.state, usage.state_reason) == (case.state, case.state_reason)
    assert usage.version == case.version
    assert usage.model == case.model
    assert usage.extra["plan"] == "Claude Max"
    _same_limits(_limits(usage), case.limits)
    assert usage.warnings == []


def test_fixture_usage_resets_text_and_cost() -> None:
    usage = ClaudeParser().parse(
        _fixture("claude-code-2.1.197-usage-tab-max-120x40.txt"),
        _at("2026-11-25T06:39:11Z"),
        NEW_YORK,
    )
    assert [lim.resets_text for lim in usage.limits] == [
        "4:59am (America/New_York)",
        "Nov 28, 11:59am (America/New_York)",
        "Nov 28, 11:59am (America/New_York)",
    ]
    assert all(lim.metric == "quota" and not lim.estimate for lim in usage.limits)
    assert usage.extra["session_cost_usd"] == 0.0


def test_fixture_zone_on_screen_wins_over_configured_zone() -> None:
    usage = ClaudeParser().parse(
        _fixture("claude-code-2.0.76-usage-tab-max-120x40.txt"),
        _at("2026-11-25T06:41:48Z"),
        zoneinfo.ZoneInfo("Asia/Tokyo"),
    )
    _same_limits(_limits(usage), CARD_LIMITS)


# --- derived variants ---------------------------------------------------------------------

HEADER = """ ▐▛███▜▌   Claude Code v2.1.197
▝▜█████▛▘  Opus 4.8 · Claude Max
  ▘▘ ▝▝    /srv/work

❯ /usage
────────────────────────────────────────────────────────────
  Settings  Status   Config   Usage   Stats
"""

WIDE_CARD = """
  Current session
  ██████████████████▌                                37% used
  Resets 4:59am (America/New_York)

  Current week (all models)
  ████████████████████████████████                   64% used
  Resets Nov 28, 11:59am (America/New_York)

  Esc to cancel
"""

NARROW = (
    HEADER
    + """
  Current session · Resets 4:59am (America/New_York)
  ██████████████████▌
  37% used

  Current week (all models) · Resets Nov 28, 11:59am
  (America/New_York)
  ████████████████████████████████
  64% used

  Current week (Opus) · Resets Nov 28, 11:59am (America/New_York)
  ███
  5% used

  Esc to cancel
"""
)

SCOPED_NO_RESET = (
    HEADER
    + """
  Current session
  ██████████████████▌                                37% used
  Resets 4:59am (America/New_York)

  Current week (all models)
  ████████████████████████████████                   64% used
  Resets Nov 28, 11:59am (America/New_York)

  Current week (Sonnet only)
                                                     0% used

  Current week (Haiku 5)
  █                                                  2% used
  Resets Nov 28, 11:59am (America/New_York)

  Usage credits
  ████▌                                              9% used
  Resets Dec 1 (America/New_York)

  Esc to cancel
"""
)

TWO_CARDS = HEADER + WIDE_CARD.replace("37% used", "20% used") + "\n❯ /usage\n" + HEADER + WIDE_CARD

BANNER_AFTER = (
    HEADER
    + WIDE_CARD
    + """
❯ go on
⏺ Done.
  ⎿  You've used 91% of your session limit · resets 3pm (America/New_York)
────────────────────────────────────────────────────────────
❯
────────────────────────────────────────────────────────────
  ? for shortcuts
"""
)

BANNER_BEFORE = (
    """❯ hi
  You've used 91% of your session limit · resets 3pm (America/New_York)
"""
    + HEADER
    + WIDE_CARD
)

HIT_AFTER = (
    HEADER
    + WIDE_CARD
    + """
❯ go on
  ⎿  You've hit your session limit · resets 3pm (America/New_York)
────────────────────────────────────────────────────────────
❯
────────────────────────────────────────────────────────────
"""
)

HIT_AFTER_FULL = HIT_AFTER.replace("37% used", "100% used")

BANNER_ONLY = """ ▐▛███▜▌   Claude Code v2.1.197
▝▜█████▛▘  Sonnet 4.5 · Claude Pro
────────────────────────────────────────
❯ fix it
  ⎿  You've used 91% of your weekly limit · resets Nov 28, 11:59am
────────────────────────────────────────
❯
────────────────────────────────────────
"""

HIT_ONLY = """ ▐▛███▜▌   Claude Code v2.1.197
────────────────────────────────────────
❯ fix it
  ⎿  You've hit your session limit · resets 3pm (America/New_York)
────────────────────────────────────────
❯
────────────────────────────────────────
"""

SCOPED_BANNERS = (
    HEADER
    + """
  Current session
  ██                                                 5% used
  Resets 4:59am (America/New_York)

  Current week (Sonnet only)
  ██████                                             12% used
  Resets Nov 28, 11:59am (America/New_York)

  Current week (Opus)
  ██████                                             40% used
  Resets Nov 28, 11:59am (America/New_York)

  Esc to cancel

  You've used 95% of your Opus limit · resets Nov 28, 11:59am (America/New_York)
  You've used 80% of your Sonnet limit
"""
)

YEAR_END = (
    HEADER
    + """
  Current session
  ██                                                 5% used
  Resets 1am (America/New_York)

  Current week (all models)
  ██████                                             12% used
  Resets Jan 2, 9am (America/New_York)

  Current week (Sonnet only)
  ██████                                             12% used
  Resets Jul 18 at 4am (America/New_York)

  Esc to cancel
"""
)

NO_ZONE = (
    HEADER
    + """
  Current session
  ██                                                 5% used
  Resets 9pm

  Esc to cancel
"""
)

STATUS = """> /status
────────────────────────────────────────────────────────────────────────────────
 Settings:  Status   Config   Usage  (tab to cycle)

 Version: 2.0.76
 Session ID: 3f2a9c1e-0000-4000-8000-000000000000
 cwd: /srv/ccwork2
 Login method: Claude Max Account
 Organization: dev@example.com's Organization
 Email: dev@example.com
 Auth token: CLAUDE_CODE_OAUTH_TOKEN

 Model: Default (Opus 4.5)
 Esc to cancel
"""

CONTEXT = """ ▐▛███▜▌   Claude Code v2.1.197
▝▜█████▛▘  Opus 4.8 (1M context) · Claude Max
────────────────────────────────────────
❯
────────────────────────────────────────
  ? for shortcuts                       Context left until auto-compact: 12%
"""

SET_MODEL = CONTEXT.replace(
    "❯\n", "❯ /model\n  ⎿  Set model to Sonnet 4.5 (claude-sonnet-4-5-20250929)\n❯\n", 1
)


class VariantCase(t.NamedTuple):
    test_id: str
    text: str
    observed_at: str
    zone: dt.tzinfo
    screen: str
    limits: list[Expected]
    warnings: list[str]


VARIANT_CASES = [
    VariantCase(
        "narrow-layout",
        NARROW,
        "2026-11-25T06:39:11Z",
        NEW_YORK,
        "claude.usage",
        [
            ("5h", None, 37.0, "2026-11-25T04:59:00-05:00"),
            ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
            ("weekly", "opus", 5.0, "2026-11-28T11:59:00-05:00"),
        ],
        [],
    ),
    VariantCase(
        "scoped-no-reset-credits",
        SCOPED_NO_RESET,
        "2026-11-25T06:39:11Z",
        NEW_YORK,
        "claude.usage",
        [
            ("5h", None, 37.0, "2026-11-25T04:59:00-05:00"),
            ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
            ("weekly", "sonnet only", 0.0, None),
            ("weekly", "haiku 5", 2.0, "2026-11-28T11:59:00-05:00"),
            ("monthly", "credits", 9.0, "2026-12-01T00:00:00-05:00"),
        ],
        [],
    ),
    VariantCase(
        "two-cards-last-wins",
        TWO_CARDS,
        "2026-11-25T06:39:11Z",
        NEW_YORK,
        "claude.usage",
        [
            ("5h", None, 37.0, "2026-11-25T04:59:00-05:00"),
            ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
        ],
        [],
    ),
    VariantCase(
        "exact-banner-after-card",
        BANNER_AFTER,
        "2026-11-25T06:39:11Z",
        NEW_YORK,
        "claude.usage",
        [
            ("5h", None, 91.0, "2026-11-25T15:00:00-05:00"),
            ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
        ],
        [],
    ),
    VariantCase(
        "banner-before-card-is-older",
        BANNER_BEFORE,
        "2026-11-25T06:39:11Z",
        NEW_YORK,
        "claude.usage",
        [
            ("5h", None, 37.0, "2026-11-25T04:59:00-05:00"),
            ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
        ],
        [],
    ),
    VariantCase(
        # the hit banner below a card at 37% is newer: the session is used up (100%)
        "hit-banner-below-card-means-100",
        HIT_AFTER,
        "2026-11-25T06:39:11Z",
        NEW_YORK,
        "claude.usage",
        [
            ("5h", None, 100.0, "2026-11-25T15:00:00-05:00"),
            ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
        ],
        ["You've hit your session limit · resets 3pm (America/New_York)"],
    ),
    VariantCase(
        "hit-banner-agrees-with-100",
        HIT_AFTER_FULL,
        "2026-11-25T06:39:11Z",
        NEW_YORK,
        "claude.usage",
        [
            ("5h", None, 100.0, "2026-11-25T04:59:00-05:00"),
            ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
        ],
        ["You've hit your session limit · resets 3pm (America/New_York)"],
    ),
    VariantCase(
        "weekly-banner-only-configured-zone",
        BANNER_ONLY,
        "2026-11-25T06:39:11Z",
        NEW_YORK,
        "claude.banner",
        [
            ("weekly", None, 91.0, "2026-11-28T11:59:00-05:00"),
        ],
        [],
    ),
    VariantCase(
        "hit-banner-only",
        HIT_ONLY,
        "2026-11-25T06:39:11Z",
        UTC,
        "claude.banner",
        [
            ("5h", None, 100.0, "2026-11-25T15:00:00-05:00"),
        ],
        ["You've hit your session limit · resets 3pm (America/New_York)"],
    ),
    VariantCase(
        "scoped-banners-match-card-scopes",
        SCOPED_BANNERS,
        "2026-11-25T06:39:11Z",
        NEW_YORK,
        "claude.usage",
        [
            ("5h", None, 5.0, "2026-11-25T04:59:00-05:00"),
            ("weekly", "sonnet only", 80.0, "2026-11-28T11:59:00-05:00"),
            ("weekly", "opus", 95.0, "2026-11-28T11:59:00-05:00"),
        ],
        [],
    ),
    VariantCase(
        "year-end-and-midnight",
        YEAR_END,
        "2026-12-31T20:00:00Z",
        UTC,
        "claude.usage",
        [
            ("5h", None, 5.0, "2027-01-01T01:00:00-05:00"),
            ("weekly", None, 12.0, "2027-01-02T09:00:00-05:00"),
            ("weekly", "sonnet only", 12.0, "2027-07-18T04:00:00-04:00"),
        ],
        [],
    ),
    VariantCase(
        "no-zone-uses-configured-zone",
        NO_ZONE,
        "2026-11-25T06:39:11Z",
        zoneinfo.ZoneInfo("Europe/Berlin"),
        "claude.usage",
        [
            ("5h", None, 5.0, "2026-11-25T21:00:00+01:00"),
        ],
        [],
    ),
    VariantCase(
        "across-midnight-no-zone",
        NO_ZONE.replace("9pm", "12:30am"),
        "2026-11-25T04:30:00Z",
        NEW_YORK,
        "claude.usage",
        [
            ("5h", None, 5.0, "2026-11-25T00:30:00-05:00"),
        ],
        [],
    ),
]


@pytest.mark.parametrize("case", VARIANT_CASES, ids=[c.test_id for c in VARIANT_CASES])
def test_variant(case: VariantCase) -> None:
    parser = ClaudeParser()
    assert parser.detect(case.text)
    usage = parser.parse(case.text, _at(case.observed_at), case.zone)
    assert usage.screen == case.screen
    _same_limits(_limits(usage), case.limits)
    assert usage.warnings == case.warnings


def test_status_tab() -> None:
    usage = ClaudeParser().parse(STATUS, _at("2026-11-25T06:39:11Z"), NEW_YORK)
    assert usage.screen == "claude.status"
    assert (usage.state, usage.state_reason) == ("idle", "/status dialog")
    assert usage.version == "2.0.76"
    assert usage.model == "Default (Opus 4.5)"
    assert usage.extra["account"] == "dev@example.com"
    assert usage.extra["login_method"] == "Claude Max Account"
    assert usage.extra["cwd"] == "/srv/ccwork2"
    assert usage.extra["auth_token"] == "CLAUDE_CODE_OAUTH_TOKEN"
    assert usage.limits == []


def test_context_left_and_model_switch() -> None:
    usage = ClaudeParser().parse(CONTEXT, _at("2026-11-25T06:39:11Z"), NEW_YORK)
    assert usage.context_left_pct == 12.0
    assert usage.model == "Opus 4.8 (1M context)"
    switched = ClaudeParser().parse(SET_MODEL, _at("2026-11-25T06:39:11Z"), NEW_YORK)
    assert switched.model == "Sonnet 4.5"


RULE = "─" * 60


class StateCase(t.NamedTuple):
    test_id: str
    text: str
    state: str
    reason: str


STATE_CASES = [
    StateCase(
        "working-esc",
        f"❯ write tests\n✻ Thinking… (12s · ↑ 1.2k tokens · esc to interrupt)\n"
        f"{RULE}\n❯\n{RULE}\n  ? for shortcuts\n",
        "working",
        "esc to interrupt",
    ),
    StateCase("working-spinner", f"❯ hi\n✶ Pondering…\n{RULE}\n❯\n{RULE}\n", "working", "spinner"),
    StateCase(
        "trust",
        "Do you trust the files in this folder?\n\n /srv/x\n\n ❯ 1. Yes, proceed\n   2. No, exit\n",
        "waiting",
        "trust prompt",
    ),
    StateCase(
        "permission",
        "Do you want to make this edit to foo.py?\n ❯ 1. Yes\n"
        "   2. Yes, and don't ask again this session\n"
        "   3. No, and tell Claude what to do differently (esc)\n",
        "waiting",
        "permission prompt",
    ),
    StateCase(
        "login",
        " Select login method:\n\n ❯ 1. Claude account with subscription\n"
        "   2. Anthropic Console account\n",
        "waiting",
        "login",
    ),
    StateCase(
        "model-switch",
        " Select model\n Switch between Claude models.\n ❯ 1. Default\n",
        "waiting",
        "model switch",
    ),
    StateCase(
        "slash-menu",
        f"{RULE}\n❯ /us\n{RULE}\n  /usage            Show plan usage limits\n"
        "  /user-settings    Open settings\n",
        "idle",
        "slash menu",
    ),
    StateCase("prompt", f"{RULE}\n❯ \n{RULE}\n  ? for shortcuts\n", "idle", "prompt"),
    StateCase(
        "exited",
        f"{RULE}\n❯ \n{RULE}\nuser@host:~/w$ \n",
        "unknown",
        "shell prompt (Claude Code is not running)",
    ),
    StateCase("empty", "\n\n", "unknown", "empty screen"),
    StateCase(
        "noise",
        "random words\nnothing here\n",
        "unknown",
        "no prompt, dialog or spinner recognised",
    ),
]


@pytest.mark.parametrize("case", STATE_CASES, ids=[c.test_id for c in STATE_CASES])
def test_pane_state(case: StateCase) -> None:
    assert pane_state(case.text) == (case.state, case.reason)
    usage = ClaudeParser().parse(case.text, _at("2026-11-25T06:39:11Z"), NEW_YORK)
    assert (usage.state, usage.state_reason) == (case.state, case.reason)


def test_detect_without_header() -> None:
    parser = ClaudeParser()
    assert parser.detect(f"old output\n{RULE}\n❯ \n{RULE}\n")
    assert parser.detect("✻ Thinking… (12s · ↑ 1.2k tokens · esc to interrupt)\n")


def test_detect_rejects_other_screens() -> None:
    parser = ClaudeParser()
    assert not parser.detect("just a shell\n$ ls\n")
    assert not parser.detect(_fixture("claude-monitor-4.0.0-realtime-max5-1.txt"))
    codex = (
        FIXTURES
        / "screens"
        / "codex"
        / "codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn.txt"
    )
    if codex.exists():
        assert not parser.detect(codex.read_text(encoding="utf-8"))


def test_extra_usage_off_is_no_limit() -> None:
    usage = ClaudeParser().parse(
        _fixture("claude-code-2.0.76-usage-tab-max-120x40.txt"), _at("2026-11-25T06:41:48Z"), UTC
    )
    assert all(lim.window != "monthly" for lim in usage.limits)


class BannerCase(t.NamedTuple):
    test_id: str
    line: str
    limits: list[Expected]
    warnings: list[str]


BANNER_CASES = [
    BannerCase("five-hour-reached", "  ⎿  5-hour limit reached ∙ resets 3pm (America/New_York)",
               [("5h", None, 100.0, "2026-11-25T15:00:00-05:00")],
               ["5-hour limit reached ∙ resets 3pm (America/New_York)"]),
    BannerCase("opus-weekly-reached-with-trailer",
               "Opus weekly limit reached ∙ resets Nov 28, 11:59am · /upgrade to keep going",
               [("weekly", "opus", 100.0, "2026-11-28T11:59:00-05:00")],
               ["Opus weekly limit reached ∙ resets Nov 28, 11:59am · /upgrade to keep going"]),
    BannerCase("old-generic-reached-is-only-a-warning",
               "Claude usage limit reached. Your limit will reset at 3pm (America/New_York).",
               [],
               ["Claude usage limit reached. Your limit will reset at 3pm (America/New_York)."]),
    # Claude Code 2.1.197 wording (real captures and the binary's strings): a hit limit is 100%
    BannerCase("hit-weekly", "  ⎿  You've hit your weekly limit · resets Nov 28, 11:59am",
               [("weekly", None, 100.0, "2026-11-28T11:59:00-05:00")],
               ["You've hit your weekly limit · resets Nov 28, 11:59am"]),
    BannerCase("hit-sonnet", "  ⎿  You've hit your Sonnet limit · resets Nov 28, 11:59am",
               [("weekly", "sonnet", 100.0, "2026-11-28T11:59:00-05:00")],
               ["You've hit your Sonnet limit · resets Nov 28, 11:59am"]),
    BannerCase("hit-opus-curly-apostrophe", "  ⎿  You’ve hit your Opus limit · resets 3pm",
               [("weekly", "opus", 100.0, "2026-11-25T15:00:00-05:00")],
               ["You’ve hit your Opus limit · resets 3pm"]),
    BannerCase("hit-session-wrapped-zone",
               "  ⎿  You've hit your session limit · resets 6:43pm\n     (UTC)",
               [("5h", None, 100.0, "2026-11-25T18:43:00+00:00")],
               ["You've hit your session limit · resets 6:43pm (UTC)"]),
    BannerCase("monthly-spend-is-only-a-warning",
               "  ⎿  You've hit your monthly spend limit. /model to switch models.", [],
               ["You've hit your monthly spend limit. /model to switch models."]),
    BannerCase("org-monthly-usage-is-only-a-warning",
               "  ⎿  You've hit your org's monthly usage limit · resets Dec 1", [],
               ["You've hit your org's monthly usage limit · resets Dec 1"]),
    BannerCase("fast-limit-is-only-a-warning", "  ⎿  You've hit your fast limit", [],
               ["You've hit your fast limit"]),
    BannerCase("usage-limit-is-only-a-warning", "  ⎿  You've hit your usage limit · resets 3pm",
               [], ["You've hit your usage limit · resets 3pm"]),
    BannerCase("approaching-is-only-a-warning", "Approaching usage limit · resets at 10pm", [],
               ["Approaching usage limit · resets at 10pm"]),
    BannerCase("exact-weekly-no-reset", "You’ve used 91% of your weekly limit",
               [("weekly", None, 91.0, None)], []),
]


@pytest.mark.parametrize("case", BANNER_CASES, ids=[c.test_id for c in BANNER_CASES])
def test_banner_phrasings(case: BannerCase) -> None:
    text = f"{RULE}\n❯ go\n{case.line}\n{RULE}\n❯\n{RULE}\n"
    usage = ClaudeParser().parse(text, _at("2026-11-25T06:39:11Z"), NEW_YORK)
    assert usage.screen == "claude.banner"
    _same_limits(_limits(usage), case.limits)
    assert usage.warnings == case.warnings


def test_closed_dialog_above_prompt_is_prompt_state() -> None:
    assert pane_state(BANNER_AFTER) == ("idle", "prompt")
    assert pane_state(HEADER + "\n  Loading usage…\n\n  Esc to cancel\n") == (
        "idle", "settings dialog")


NARROW_MID_PHRASE = HEADER + """
  Current week (all models) · Resets Nov 28,
  11:59am (America/New_York)
  ████████████████████████████████
  64% used

  Current week (Sonnet only) · Resets 4:59am
  ██████
  12% used

  Esc to cancel
"""


def test_narrow_reset_wrapped_mid_phrase_is_joined() -> None:
    usage = ClaudeParser().parse(NARROW_MID_PHRASE, _at("2026-11-25T06:39:11Z"), NEW_YORK)
    _same_limits(_limits(usage), [
        ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
        ("weekly", "sonnet only", 12.0, "2026-11-25T04:59:00-05:00"),
    ])
    assert usage.limits[0].resets_text == "Nov 28, 11:59am (America/New_York)"


def test_prose_mentioning_a_limit_is_no_banner() -> None:
    text = (f"{RULE}\n❯ why?\n⏺ I think the weekly limit reached 80% yesterday.\n"
            f"{RULE}\n❯\n{RULE}\n")
    usage = ClaudeParser().parse(text, _at("2026-11-25T06:39:11Z"), NEW_YORK)
    assert (usage.screen, usage.limits, usage.warnings) == ("claude.main", [], [])


NARROW_ROWS = [
    ("Current session", "4:59am (America/New_York)", "█████", 37),
    ("Current week (all models)", "Nov 28, 11:59am (America/New_York)", "██████████", 64),
    ("Current week (Sonnet only)", "Jul 18 at 4am (America/New_York)", "", 0),
]


@pytest.mark.parametrize("width", range(30, 64))
def test_narrow_layout_at_every_width(width: int) -> None:
    lines = [HEADER]
    for title, reset, bar, pct in NARROW_ROWS:
        # the way a narrow pane breaks the line: at the last space that fits, indented again
        head = wrap_to(f"  {title} · Resets {reset}", width)
        lines += [head[0].rstrip(), *(f"  {part.rstrip()}" for part in head[1:])]
        lines += [f"  {bar}", f"  {pct}% used", ""]
    lines.append("  Esc to cancel")
    usage = ClaudeParser().parse("\n".join(lines), _at("2026-11-25T06:39:11Z"), UTC)
    _same_limits(_limits(usage), [
        ("5h", None, 37.0, "2026-11-25T04:59:00-05:00"),
        ("weekly", None, 64.0, "2026-11-28T11:59:00-05:00"),
        ("weekly", "sonnet only", 0.0, "2027-07-18T04:00:00-04:00"),
    ])
    assert [lim.resets_text for lim in usage.limits] == [reset for _, reset, _, _ in NARROW_ROWS]


# -- usage credits and the first (cached) render of 2.1 /usage --------------------------------
# Layouts from the real captures (usage-credits-*, usage-refreshing-*): wide rows put
# "$used / $limit spent · Resets …" under the bar; narrow rows (< 64 columns) put it after the
# title; "Refreshing…" under the rows marks the figures as Claude's cached snapshot.

TABS = "  Settings  Status   Config   Usage   Stats\n\n"
SESSION_WIDE = "  Current session\n  █████████      42% used\n  Resets 6:04pm (UTC)\n\n"


class CreditCase(t.NamedTuple):
    test_id: str
    text: str
    # (window, scope, used_pct, resets ISO, used, limit, estimate)
    limits: list[tuple[str, str | None, float, str | None, float | None, float | None, bool]]


S42 = ("5h", None, 42.0, "2026-12-03T18:04:00+00:00", None, None, False)
CREDIT_CASES = [
    CreditCase("credits-wide-euro",
               TABS + SESSION_WIDE + "  Usage credits\n  ███      7% used\n"
               "  €3.50 / €50.00 spent · Resets Jan 1, 2027 (UTC)\n\n  Esc to cancel\n",
               [S42, ("monthly", "credits", 7.0, "2027-01-01T00:00:00+00:00", 3.5, 50.0, False)]),
    CreditCase("credits-narrow-wrapped-before-resets",
               TABS + "  Usage credits · $1,234.50 / $2,000.00 spent ·\n  Resets Jan 1, 2027\n"
               "  ████████████████████████\n  61% used\n\n  Esc to cancel\n",
               [("monthly", "credits", 61.0, "2027-01-01T00:00:00+00:00", 1234.5, 2000.0,
                 False)]),
    CreditCase("credits-narrow-no-reset",
               TABS + "  Usage credits · $12.34 / $50.00 spent\n  ███████\n  24% used\n\n"
               "  Esc to cancel\n",
               [("monthly", "credits", 24.0, None, 12.34, 50.0, False)]),
    CreditCase("credits-off-is-no-limit",
               TABS + SESSION_WIDE + "  Usage credits\n  Usage credits are off · /usage-credits "
               "to turn them on\n\n  Esc to cancel\n", [S42]),
    CreditCase("refreshing-makes-estimates",
               TABS + SESSION_WIDE + "  Refreshing…\n\n  Esc to cancel\n",
               [(*S42[:6], True)]),
    CreditCase("refresh-failed-keeps-estimates",
               TABS + SESSION_WIDE + "  Could not refresh usage data\n\n"
               "  r to retry · Esc to cancel\n", [(*S42[:6], True)]),
    CreditCase("scanning-local-sessions-is-not-stale",
               TABS + SESSION_WIDE + "  What's contributing to your limits usage?\n"
               "  Approximate, based on local sessions on this machine — does not include other "
               "devices or claude.ai\n  Scanning local sessions…\n\n  Esc to cancel\n", [S42]),
    CreditCase("older-refreshing-card-newer-settled",
               TABS + SESSION_WIDE + "  Refreshing…\n  Esc to cancel\n❯ /usage\n"
               + TABS + SESSION_WIDE + "  Esc to cancel\n", [S42]),
]


@pytest.mark.parametrize("case", CREDIT_CASES, ids=[c.test_id for c in CREDIT_CASES])
def test_credits_and_refreshing(case: CreditCase) -> None:
    usage = ClaudeParser().parse(case.text, _at("2026-12-03T15:44:38+00:00"), UTC)
    assert usage.screen == "claude.usage"
    got = [(lim.window, lim.scope, lim.used_pct,
            lim.resets_at.isoformat() if lim.resets_at else None, lim.used, lim.limit,
            lim.estimate) for lim in usage.limits]
    assert got == case.limits
