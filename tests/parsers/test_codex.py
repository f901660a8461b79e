"""Codex screens → the usage objects of docs/parsers.md: real captures, upstream snapshots and
derived variants.

Every expected figure below was written by reading the screen (e.g. "77% left" → 23.0 used;
"resets 08:44" seen at 06:30 UTC → 08:44 the same day), not by running the parser.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from zoneinfo import ZoneInfo

import pytest

from scraper.parsers.codex import CodexParser
from tests import FIXTURES

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")
SCREENS = FIXTURES / "screens" / "codex"
SNAPSHOTS = FIXTURES / "codex" / "snapshots"
SNAP_NOW = "2026-11-25T06:30:00+00:00"  # snapshots carry no time: one fixed "now" for all

STALE = "limits may be stale - start new turn to refresh."
NOT_YET = "Limits: data not available yet"


class Lim(t.NamedTuple):
    window: str
    scope: str | None
    used_pct: float
    resets_at: str | None
    resets_text: str | None = None
    used: float | None = None
    limit: float | None = None


class Expect(t.NamedTuple):
    limits: list[Lim]
    state: str = "idle"
    version: str | None = None
    model: str | None = None
    context_left_pct: float | None = None
    warnings: list[str] = []  # noqa: RUF012 - NamedTuple default, never mutated
    extra: dict[str, t.Any] = {}  # noqa: RUF012 - same
    # "codex.status" with a /status card on screen, "codex.main" without; None: not pinned.
    screen: str | None = None


CREDIT_LIMIT = Lim(
    "monthly", "credits", 32.0, "2027-05-07T07:08:00+00:00", "07:08 on 7 May", 8000.0, 25000.0
)


class Case(t.NamedTuple):
    test_id: str
    source: str  # "screen:<file>", "snap:<file>" or inline screen text
    now: str
    zone: dt.tzinfo
    expected: Expect


def load(source: str) -> str:
    """Fixture text (snapshot insta header dropped, quoted backend rows unquoted) or inline."""
    if source.startswith("screen:"):
        path = SCREENS / source.removeprefix("screen:")
    elif source.startswith("snap:"):
        path = SNAPSHOTS / source.removeprefix("snap:")
    else:
        return source
    text = path.read_text(encoding="utf-8")
    if source.startswith("snap:"):
        text = text.split("\n", 4)[4]
        if "expression: terminal.backend()" in path.read_text(encoding="utf-8")[:300] or (
            text.startswith('"')
        ):
            text = "\n".join(line.strip().strip('"') for line in text.splitlines())
    return text


def check(case: Case) -> None:
    observed = dt.datetime.fromisoformat(case.now)
    usage = CodexParser().parse(load(case.source), observed, case.zone)
    out = usage.to_dict()
    got = [
        Lim(
            lim["window"],
            lim["scope"],
            lim["used_pct"],
            lim["resets_at"],
            lim["resets_text"],
            lim["used"],
            lim["limit"],
        )
        for lim in out["limits"]
    ]
    want = case.expected
    # resets_text is only compared where the case spells it out.
    got_cmp = [
        g._replace(resets_text=None) if w.resets_text is None else g
        for g, w in zip(got, want.limits, strict=False)
    ] + got[len(want.limits) :]
    assert got_cmp == want.limits
    assert out["provider"] == "codex"
    if want.screen is not None:
        assert out["screen"] == want.screen
    assert out["screen"] in ("codex.status", "codex.main", "codex.login", "codex.update",
                             "codex.model-upgrade", "codex.exec")
    assert out["state"] == want.state, out["state_reason"]
    assert out["state_reason"]
    assert out["version"] == want.version
    assert out["model"] == want.model
    assert out["context_left_pct"] == want.context_left_pct
    assert out["warnings"] == want.warnings
    for key, value in want.extra.items():
        assert out[key] == value
    for lim in out["limits"]:
        assert lim["metric"] == "quota"
        assert lim["estimate"] is False


def at_snap_now(test_id: str, source: str, expected: Expect) -> Case:
    """A snapshot row: snapshots carry no time or zone, all are read at SNAP_NOW in UTC."""
    return Case(test_id, source, SNAP_NOW, UTC, expected)


def cases(*rows: Case) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("case", rows, ids=[row.test_id for row in rows])


# -- real captures (screens/README.md gives observed_at and zone) ---------------------------

STATUS_169 = Expect(
    screen="codex.status",
    limits=[
        Lim("5h", None, 23.0, "2026-11-25T08:44:00+00:00", "08:44"),
        Lim("weekly", None, 58.0, "2026-11-28T11:24:00+00:00", "11:24 on 28 Nov"),
    ],
    version="0.169.0",
    model="GPT-6.1-Sol (reasoning low)",
    extra={"account": "probe.user@example.com (Plus)"},
)
STATUS_100 = Expect(
    screen="codex.status",
    limits=[
        Lim("5h", None, 27.0, "2026-11-25T10:01:00+00:00", "10:01"),
        Lim("weekly", None, 81.0, "2026-11-26T15:39:00+00:00", "15:39 on 26 Nov"),
    ],
    version="0.100.0",
    model="gpt-5.3-codex (reasoning none, summaries auto)",
    context_left_pct=100.0,
    extra={"account": "API key configured (run codex login to use ChatGPT)"},
)
STATUS_50 = Expect(
    screen="codex.status",
    limits=[
        Lim("5h", None, 42.0, "2026-11-25T10:37:00+00:00", "10:37"),
        Lim("weekly", None, 18.0, "2026-12-01T06:37:00+00:00", "06:37 on 1 Dec"),
    ],
    version="0.50.0",
    model="gpt-5-codex (reasoning none, summaries auto)",
    context_left_pct=100.0,
)

SCREEN_CASES = []
for suffix in (".txt", ".ansi.txt"):
    kind = "ansi" if suffix == ".ansi.txt" else "plain"
    SCREEN_CASES += [
        Case(
            f"0.169-status-{kind}",
            f"screen:codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn{suffix}",
            "2026-11-25T06:30:19+00:00",
            UTC,
            STATUS_169,
        ),
        Case(
            f"0.100-status-{kind}",
            f"screen:codex-0.100.0-status-apikey-after-turn-5h73left-weekly19left{suffix}",
            "2026-11-25T06:39:35+00:00",
            UTC,
            STATUS_100,
        ),
        Case(
            f"0.50-status-{kind}",
            f"screen:codex-0.50.0-status-apikey-after-turn-5h42used-weekly18used{suffix}",
            "2026-11-25T06:37:52+00:00",
            UTC,
            STATUS_50,
        ),
        Case(
            f"0.169-composer-{kind}",
            f"screen:codex-0.169.0-main-composer-chatgpt-fresh{suffix}",
            "2026-11-25T06:30:13+00:00",
            UTC,
            Expect(limits=[], version="0.169.0", screen="codex.main"),
        ),
        Case(
            f"0.169-working-{kind}",
            f"screen:codex-0.169.0-working-spinner-chatgpt{suffix}",
            "2026-11-25T06:30:38+00:00",
            UTC,
            STATUS_169._replace(state="working"),
        ),
        Case(
            f"0.169-trust-{kind}",
            f"screen:codex-0.169.0-trust-folder-prompt{suffix}",
            "2026-11-25T06:24:48+00:00",
            UTC,
            Expect(limits=[], state="waiting", screen="codex.main"),
        ),
    ]


@cases(*SCREEN_CASES)
def test_real_screens(case: Case) -> None:
    check(case)


def test_real_screen_in_another_zone() -> None:
    """The same card read in New York: wall-clock resets become New York times."""
    check(
        Case(
            "0.169-status-ny",
            "screen:codex-0.169.0-status-chatgpt-plus-5h77-weekly42-noturn.txt",
            "2026-11-25T06:30:19+00:00",
            NY,
            STATUS_169._replace(
                limits=[
                    Lim("5h", None, 23.0, "2026-11-25T08:44:00-05:00"),
                    Lim("weekly", None, 58.0, "2026-11-28T11:24:00-05:00"),
                ]
            ),
        )
    )


# -- upstream snapshots: every status card at the top level ---------------------------------

P = "snap:codex_tui__status__tests__status_snapshot_"
MAX = "gpt-5.1-codex-max (reasoning none, summaries auto)"
NEXT_0314 = "2026-11-26T03:14:00+00:00"  # 03:14 seen at 06:30: tomorrow

CREDITS_AND_LIMITS = Expect(
    [
        Lim("5h", None, 45.0, "2026-11-25T09:25:00+00:00"),
        Lim("weekly", None, 30.0, "2026-11-25T09:55:00+00:00"),
    ],
    version="0.0.0",
    model="gpt-5.1-codex (reasoning none, summaries auto)",
    context_left_pct=100.0,
    extra={"credits": "38 credits"},
)

SNAPSHOT_CASES = [
    at_snap_now(
        "cached-limits-stale",
        P + "cached_limits_hide_credits_without_flag.snap",
        Expect(
            [
                Lim("5h", None, 60.0, "2026-11-25T11:32:00+00:00"),
                Lim("weekly", None, 35.0, "2026-11-25T11:52:00+00:00"),
            ],
            version="0.0.0",
            model="gpt-5.1-codex (reasoning none, summaries auto)",
            context_left_pct=100.0,
            warnings=[STALE],
        ),
    ),
    at_snap_now(
        "account-metadata",
        P + "includes_account_metadata.snap",
        Expect(
            [],
            version="0.0.0",
            model=MAX,
            warnings=[NOT_YET],
            extra={"account": "dev@example.com (Business)"},
        ),
    ),
    at_snap_now(
        "credits-and-limits",
        P + "includes_credits_and_limits.snap",
        CREDITS_AND_LIMITS,
    ),
    at_snap_now(
        "enterprise-monthly-credit",
        P + "includes_enterprise_monthly_credit_limit.snap",
        Expect(
            [CREDIT_LIMIT],
            version="0.0.0",
            model=MAX,
            context_left_pct=100.0,
        ),
    ),
    at_snap_now(
        "forked-from",
        P + "includes_forked_from.snap",
        Expect([], version="0.0.0", model=MAX, context_left_pct=100.0, warnings=[NOT_YET]),
    ),
    at_snap_now(
        "monthly-limit",
        P + "includes_monthly_limit.snap",
        Expect(
            [Lim("monthly", None, 12.0, "2027-05-07T07:08:00+00:00", "07:08 on 7 May")],
            version="0.0.0",
            model=MAX,
            context_left_pct=100.0,
        ),
    ),
    at_snap_now(
        "reasoning-details",
        P + "includes_reasoning_details.snap",
        Expect(
            [
                Lim("5h", None, 72.0, NEXT_0314),
                Lim("weekly", None, 45.0, "2026-11-26T03:24:00+00:00"),
            ],
            version="0.0.0",
            model="gpt-5.1-codex-max (reasoning high, summaries detailed)",
            context_left_pct=100.0,
        ),
    ),
    *[
        at_snap_now(
            name,
            P + f"{name.replace('-', '_')}.snap",
            Expect(
                [],
                version="0.0.0",
                model="gpt-5.1-codex-max (reasoning medium, summaries auto)"
                if name.startswith("uses")
                else MAX,
                context_left_pct=100.0,
                warnings=[NOT_YET],
            ),
        )
        for name in (
            "shows-active-user-defined-profile",
            "shows-auto-review-permissions",
            "shows-missing-limits-message",
            "uses-default-reasoning-when-config-empty",
        )
    ],
    at_snap_now(
        "plan-without-email-fragment",
        P + "shows_chatgpt_plan_without_email.snap",
        Expect([], extra={"account": "Business"}),
    ),
    at_snap_now(
        "refreshing-notice",
        P + "shows_refreshing_limits_notice.snap",
        Expect(
            [
                Lim("5h", None, 45.0, "2026-11-25T08:24:00+00:00"),
                Lim("weekly", None, 30.0, "2026-11-25T08:54:00+00:00"),
            ],
            version="0.0.0",
            model=MAX,
            context_left_pct=100.0,
        ),
    ),
    at_snap_now(
        "stale-limits",
        P + "shows_stale_limits_message.snap",
        Expect(
            [
                Lim("5h", None, 72.0, NEXT_0314),
                Lim("weekly", None, 40.0, "2026-11-26T03:34:00+00:00"),
            ],
            version="0.0.0",
            model=MAX,
            context_left_pct=100.0,
            warnings=[STALE],
        ),
    ),
    *[
        at_snap_now(
            name,
            P + f"{name}.snap",
            Expect(
                [],
                version="0.0.0",
                model=MAX,
                context_left_pct=100.0,
                warnings=["Limits: not available for this account"],
            ),
        )
        for name in (
            "shows_unavailable_limits_message",
            "treats_refreshing_empty_limits_as_unavailable",
        )
    ],
    at_snap_now(
        "narrow-truncated",
        P + "truncates_in_narrow_terminal.snap",
        Expect(
            [Lim("5h", None, 72.0, NEXT_0314, "03:14")],
            version="0.0.0",
            model="gpt-5.1-codex-max",  # "(reasoning high, summaries de" was cut by the pane
            context_left_pct=100.0,
        ),
    ),
    at_snap_now(
        "generic-labels",
        P + "uses_generic_limit_labels_for_unsupported_windows.snap",
        Expect(
            [
                Lim("other", None, 35.0, "2027-05-07T07:08:00+00:00", "07:08 on 7 May"),
                Lim("other", None, 50.0, "2027-05-08T07:08:00+00:00", "07:08 on 8 May"),
            ],
            version="0.0.0",
            model=MAX,
            context_left_pct=100.0,
        ),
    ),
    at_snap_now(
        "enterprise-narrow-wrapped",
        P + "wraps_enterprise_monthly_credit_details_in_narrow_terminal.snap",
        Expect(
            [CREDIT_LIMIT],
            version="0.0.0",
            model="gpt-5.1-codex-max",
            context_left_pct=100.0,
        ),
    ),
    at_snap_now(
        "transcript-overlay-two-cards-spark-group",
        "snap:codex_tui__status__tests__transcript_overlay_status_rate_limit_refresh.snap",
        Expect(
            [
                Lim("5h", "spark", 45.0, None, "soon"),
                Lim("weekly", "spark", 30.0, None, "later"),
            ],
            version="0.0.0",
            model=MAX,
        ),
    ),
]


@cases(*SNAPSHOT_CASES)
def test_status_snapshots(case: Case) -> None:
    check(case)


W = "snap:codex_tui__chatwidget__tests__"
F = "snap:codex_tui__bottom_pane__footer__tests__"
SURFACE_CASES = [
    at_snap_now(
        "footer-context",
        F + "footer_shortcuts_context_running.snap",
        Expect([], context_left_pct=72.0),
    ),
    at_snap_now(
        "footer-context-right",
        F + "footer_status_line_disabled_context_right.snap",
        Expect([], context_left_pct=50.0),
    ),
    at_snap_now(
        "status-line-footer",
        W + "status_line_model_with_reasoning_context_remaining_footer.snap",
        Expect([], context_left_pct=100.0),
    ),
    at_snap_now(
        "plan-popup",
        W + "plan_implementation_popup_context_usage.snap",
        Expect([], state="waiting"),
    ),
    at_snap_now(
        "model-switch-popup",
        W + "rate_limit_switch_prompt_popup.snap",
        Expect([], state="waiting"),
    ),
    at_snap_now(
        "credits-depleted-prompt",
        W + "workspace_member_credits_depleted_prompt.snap",
        Expect([], state="waiting"),
    ),
    at_snap_now(
        "usage-limit-prompt",
        W + "workspace_member_usage_limit_prompt.snap",
        Expect([], state="waiting", warnings=["Usage limit reached"]),
    ),
    at_snap_now(
        "status-line-setup-preview",
        W + "status_line_setup_popup_rate_limits.snap",
        Expect([]),
    ),  # a preview in a settings popup is not a reading
    at_snap_now(
        "terminal-title-preview",
        W + "terminal_title_setup_popup_rate_limits.snap",
        Expect([]),
    ),
    at_snap_now("goal-menu", W + "goal_menu_usage_limited.snap", Expect([], state="unknown")),
    at_snap_now(
        "owner-limit-messages",
        W + "workspace_owner_limit_state_messages.snap",
        Expect(
            [],
            state="unknown",
            warnings=[
                "Usage limit reached. You've reached your usage "
                "limit. Increase your limits to continue using codex."
            ],
        ),
    ),
    at_snap_now(
        "nudge-feedback",
        W + "workspace_owner_usage_limit_nudge_completion_feedback.snap",
        Expect([], state="unknown"),
    ),
]


@cases(*SURFACE_CASES)
def test_other_limit_surfaces(case: Case) -> None:
    """Footers, popups and prompts from the same upstream commit (the status-line preview dump
    ``status_surface_previews_rate_limits`` is a debug string, not a screen, and is left out)."""
    check(case)


# -- history: one snapshot per card generation ----------------------------------------------

H = "snap:history/"
S = "__codex_tui__status__tests__status_snapshot_"
G5 = "gpt-5-codex (reasoning none, summaries auto)"
STALE_G5 = Expect(
    [Lim("5h", None, 72.0, NEXT_0314), Lim("weekly", None, 40.0, "2026-11-26T03:34:00+00:00")],
    version="0.0.0",
    model=G5,
    context_left_pct=100.0,
    warnings=[STALE],
)
CUT = "5h limit: figure shown without 'used'/'left' (cut off?); not read"

HISTORY_CASES = [
    at_snap_now(
        "2025-09-25-dot-resets-old-date",
        H + "2025-09-25_7355ca48c" + S + "includes_monthly_limit.snap",
        Expect(
            [Lim("monthly", None, 12.0, "2027-05-07T07:08:00+00:00", "7 May (07:08)")],
            version="0.0.0",
            model=G5,
        ),
    ),
    at_snap_now(
        "2025-09-25-narrow-word-cut-dev-build",
        H + "2025-09-25_e363dac24" + S + "truncates_in_narrow_terminal.snap",
        Expect([], version="0.0.0", model="gpt-5-codex", warnings=[CUT]),
    ),
    at_snap_now(
        "2025-09-26-paren-resets-used",
        H + "2025-09-26_1fba99ed8" + S + "includes_monthly_limit.snap",
        Expect(
            [Lim("monthly", None, 12.0, "2027-05-07T07:08:00+00:00", "07:08 on 7 May")],
            version="0.0.0",
            model=G5,
        ),
    ),
    at_snap_now(
        "2025-09-26-send-a-message",
        H + "2025-09-26_1fba99ed8" + S + "shows_missing_limits_message.snap",
        Expect(
            [], version="0.0.0", model=G5, warnings=["Limits: send a message to load usage data"]
        ),
    ),
    at_snap_now(
        "2025-10-01-context-window-used",
        H + "2025-10-01_2f370e946" + S + "includes_reasoning_details.snap",
        Expect(
            [
                Lim("5h", None, 72.0, NEXT_0314),
                Lim("weekly", None, 45.0, "2026-11-26T03:24:00+00:00"),
            ],
            version="0.0.0",
            model="gpt-5-codex (reasoning high, summaries detailed)",
            context_left_pct=100.0,
        ),
    ),
    at_snap_now(
        "2025-10-24-visit-usage-page",
        H + "2025-10-24_c72b2ad76" + S + "shows_missing_limits_message.snap",
        Expect(
            [],
            version="0.0.0",
            model=G5,
            context_left_pct=100.0,
            warnings=["Limits: visit chatgpt.com/codex/settings/usage"],
        ),
    ),
    at_snap_now(
        "2025-10-24-stale-used",
        H + "2025-10-24_c72b2ad76" + S + "shows_stale_limits_message.snap",
        STALE_G5,
    ),
    at_snap_now(
        "2025-11-11-stale-left",
        H + "2025-11-11_930f81a17" + S + "shows_stale_limits_message.snap",
        STALE_G5,
    ),
    at_snap_now(
        "2025-11-11-narrow-bar-only",
        H + "2025-11-11_930f81a17" + S + "truncates_in_narrow_terminal.snap",
        Expect([], version="0.0.0", model="gpt-5-codex", context_left_pct=100.0),
    ),
    at_snap_now(
        "2025-11-19-credits",
        H + "2025-11-19_72af58939" + S + "includes_credits_and_limits.snap",
        CREDITS_AND_LIMITS,
    ),
    at_snap_now(
        "2026-03-31-refreshing-notice",
        H + "2026-03-31_ae057e0bb" + S + "shows_refreshing_limits_notice.snap",
        Expect(
            [
                Lim("5h", None, 45.0, "2026-11-25T08:24:00+00:00"),
                Lim("weekly", None, 30.0, "2026-11-25T08:54:00+00:00"),
            ],
            version="0.0.0",
            model=MAX,
            context_left_pct=100.0,
            warnings=["Notice: refreshing limits in background..."],
        ),
    ),
    at_snap_now(
        "2026-04-09-spend-cap",
        H + "2026-04-09_9f2a58515" + S + "shows_spend_cap_reached_message.snap",
        Expect(
            [], version="0.0.0", model=MAX, context_left_pct=100.0, warnings=["Spend cap: Reached"]
        ),
    ),
    at_snap_now(
        "2026-05-19-generic-labels",
        H + "2026-05-19_d269aa2af" + S + "uses_generic_limit_labels_for_unsupported_windows.snap",
        Expect(
            [
                Lim("other", None, 35.0, "2027-05-07T07:08:00+00:00"),
                Lim("other", None, 50.0, "2027-05-08T07:08:00+00:00"),
            ],
            version="0.0.0",
            model=MAX,
            context_left_pct=100.0,
        ),
    ),
    at_snap_now(
        "2026-06-01-enterprise-credit",
        H + "2026-06-01_c8e5db16c" + S + "includes_enterprise_monthly_credit_limit.snap",
        Expect(
            [Lim("monthly", "credits", 32.0, "2027-05-07T07:08:00+00:00", None, 8000.0, 25000.0)],
            version="0.0.0",
            model=MAX,
            context_left_pct=100.0,
        ),
    ),
]


@cases(*HISTORY_CASES)
def test_history_generations(case: Case) -> None:
    check(case)
