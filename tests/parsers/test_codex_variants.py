"""Codex screens derived from the format rules (fixtures/screens/README.md, snapshots/README.md).

Each row is a screen a real pane can show but the shared fixtures do not: other card
generations, narrow panes, wrapped resets, repeated labels under a group header, several cards,
and banners below a card (docs/parsers-codex.md "Lines below the card": exact, inexact and
contradicting lines).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from tests.parsers.test_codex import CREDIT_LIMIT, Case, Expect, Lim, cases, check

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")
NOW = "2026-11-25T06:30:00+00:00"
MODEL = "GPT-6.1-Sol (reasoning low)"

EMOJI_040 = """/status
📂 Workspace
  • Path: ~/code/demo
  • Approval Mode: on-request
  • Sandbox: workspace-write
  • AGENTS files: (none)

👤 Account
  • Signed in with ChatGPT
  • Login: user@example.com
  • Plan: Plus

🧠 Model
  • Name: gpt-5-codex
  • Provider: OpenAI
  • Reasoning Effort: Medium

💻 Client
  • CLI Version: 0.40.0

📊 Token Usage
  • Session ID: 0199a1b2-0000-7000-8000-000000000000
  • Input: 1,024
  • Output: 256
  • Total: 1,280

⏱️  Usage Limits
  • 5h limit    : [████████            ] 42% used
  • Weekly limit: [██                  ] 10% used

▌ Ask Codex to do anything
 ⏎ send   ⇧⏎ newline   ⌃T transcript   ⌃C quit
"""

EMOJI_040_NO_DATA = EMOJI_040.split("⏱️", maxsplit=1)[0] + (
    "⏱️  Usage Limits\n  • Rate limit data not available yet.\n\n▌ Ask Codex to do anything\n"
)

BORDERED_045 = """/status

╭───────────────────────────────────────────────────────────────────╮
│  >_ OpenAI Codex (v0.45.0)                                        │
│                                                                   │
│  Model:            gpt-5-codex (reasoning medium, summaries auto) │
│  Directory:        ~/code/demo                                    │
│  Approval:         on-request                                     │
│  Sandbox:          workspace-write                                │
│  Agents.md:        <none>                                         │
│  Account:          user@example.com (Pro)                         │
│                                                                   │
│  Token usage:      10.2K total  (9K input + 1.2K output)          │
│  Context window:   91% left (24.3K used / 272K)                   │
│  5h limit:         [███████░░░░░░░░░░░░░] 35% used · resets 08:10 │
│  Weekly limit:     [██░░░░░░░░░░░░░░░░░░] 12% used                │
│                    · resets 7 Dec (09:00)                         │
╰───────────────────────────────────────────────────────────────────╯

› Ask Codex to do anything

  91% context left · ? for shortcuts
"""

NARROW_045 = """/status

╭────────────────────────────────────────────╮
│  >_ OpenAI Codex (v0.45.0)                 │
│                                            │
│  Model:         gpt-5-codex (reasoning hig │
│  Token usage:   1.9K total  (1K input + 90 │
│  5h limit:      [███████████████░░░░░] 72% │
│                 (resets 03:14)             │
╰────────────────────────────────────────────╯
"""

BORDERLESS_NARROW = """  >_ OpenAI Codex (v0.169.0)
     /srv/cxwork/demo

/status

  >_ OpenAI Codex (v0.169.0)

  Visit https://chatgpt.com/settings/usage
  for up-to-date information on rate
  limits and credits

  Model:               GPT-6.1-Sol
                       (reasoning low)
  Account:             probe.user@example.com
                       (Plus)

  5h limit:            77% left
                       (resets 08:44)
  Weekly limit:        42% left
                       (resets 11:24 on 28
                       Nov)
  GPT-5.3-Codex-Spark limit:
  5h limit:            95% left
                       (resets 09:00)
  Weekly limit:        99% left
                       (resets 10:00 on 2
                       Dec)
  Credits:             120 credits
  Warning:             limits may be stale -
                       start new turn to
                       refresh.

› Ask Codex to do anything
"""
SPARK_LIMITS = [
    Lim("5h", "gpt-5.3-codex-spark", 5.0, "2026-11-25T09:00:00+00:00", "09:00"),
    Lim("weekly", "gpt-5.3-codex-spark", 1.0, "2026-12-02T10:00:00+00:00", "10:00 on 2 Dec"),
]
MAIN_LIMITS = [
    Lim("5h", None, 23.0, "2026-11-25T08:44:00+00:00", "08:44"),
    Lim("weekly", None, 58.0, "2026-11-28T11:24:00+00:00", "11:24 on 28 Nov"),
]
BORDERLESS_EXPECT = Expect(
    MAIN_LIMITS + SPARK_LIMITS,
    version="0.169.0",
    model=MODEL,
    warnings=["limits may be stale - start new turn to refresh."],
    extra={
        "account": "probe.user@example.com (Plus)",
        "scoped_credits": {"gpt-5.3-codex-spark": "120 credits"},
    },
)

WIDE_169 = """/status

  >_ OpenAI Codex (v0.169.0)

  Model:               GPT-6.1-Sol (reasoning low)
  Account:             probe.user@example.com (Plus)

  5h limit:            [███████████████░░░░░] 77% left (resets 08:44)
  Weekly limit:        [████████░░░░░░░░░░░░] 42% left (resets 11:24 on 28 Nov)
"""
WIDE_EXPECT = Expect(
    MAIN_LIMITS,
    version="0.169.0",
    model=MODEL,
    extra={"account": "probe.user@example.com (Plus)"},
)


def five_h(used_pct: float) -> Lim:
    """The card's 5h row (resets 08:44) with another figure."""
    return Lim("5h", None, used_pct, "2026-11-25T08:44:00+00:00")


def below(card: str, *lines: str, composer: bool = True) -> str:
    """``card`` with newer lines (banners) under it, then the composer."""
    tail = "\n".join(lines)
    return f"{card}\n{tail}\n\n" + ("› Ask Codex to do anything\n" if composer else "")


def without(expect: Expect, *windows: str, warning: str | None = None) -> Expect:
    limits = [lim for lim in expect.limits if lim.window not in windows or lim.scope is not None]
    warnings = [*expect.warnings, warning] if warning else expect.warnings
    return expect._replace(limits=limits, warnings=warnings)


LESS_10 = "⚠ Heads up, you have less than 10% of your 5h limit left. Run /status for a breakdown."
OVER_90 = "⚠ Heads up, you've used over 90% of your weekly limit. Run /status for a breakdown."
HIT_429 = (
    "■ You've hit your usage limit. Upgrade to Pro (https://openai.com/chatgpt/pricing), "
    "or try again at 3:15 PM."
)

# As Codex 0.169 draws it in a 120-column pane: hard-wrapped, curly apostrophe, 12-hour clock.
HIT_0169 = (
    "■ You’ve hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro), visit "
    "https://chatgpt.com/settings/\nusage to purchase more credits or try again at 8:44 AM."
)
HIT_0169_TEXT = HIT_0169[2:].replace("\n", " ")

GENERATION_CASES = [
    Case(
        "emoji-0.40",
        EMOJI_040,
        NOW,
        UTC,
        Expect(
            [Lim("5h", None, 42.0, None), Lim("weekly", None, 10.0, None)],
            version="0.40.0",
            model="gpt-5-codex",
            extra={"account": "user@example.com", "plan": "Plus"},
        ),
    ),
    Case(
        "emoji-0.40-no-data",
        EMOJI_040_NO_DATA,
        NOW,
        UTC,
        Expect(
            [],
            version="0.40.0",
            model="gpt-5-codex",
            warnings=["Rate limit data not available yet."],
            extra={"account": "user@example.com", "plan": "Plus"},
        ),
    ),
    Case(
        "bordered-0.45-dot-resets-wrapped",
        BORDERED_045,
        NOW,
        UTC,
        Expect(
            [
                Lim("5h", None, 35.0, "2026-11-25T08:10:00+00:00", "08:10"),
                Lim("weekly", None, 12.0, "2026-12-07T09:00:00+00:00", "7 Dec (09:00)"),
            ],
            version="0.45.0",
            model="gpt-5-codex (reasoning medium, summaries auto)",
            context_left_pct=91.0,
            extra={"account": "user@example.com (Pro)"},
        ),
    ),
    Case(
        "bordered-0.45-narrow-word-cut",
        NARROW_045,
        NOW,
        UTC,
        Expect(
            [Lim("5h", None, 72.0, "2026-11-26T03:14:00+00:00", "03:14")],
            version="0.45.0",
            model="gpt-5-codex",
        ),
    ),  # < 0.58 prints "% used"
    Case(
        "bordered-0.60-narrow-word-cut",
        NARROW_045.replace("0.45.0", "0.60.0"),
        NOW,
        UTC,
        Expect(
            [Lim("5h", None, 28.0, "2026-11-26T03:14:00+00:00")],
            version="0.60.0",
            model="gpt-5-codex",
        ),
    ),  # ≥ 0.58: "% left"
    Case(
        "borderless-wide-0.169", WIDE_169 + "\n› Ask Codex to do anything\n", NOW, UTC, WIDE_EXPECT
    ),
    Case("borderless-narrow-wrapped-group", BORDERLESS_NARROW, NOW, UTC, BORDERLESS_EXPECT),
    Case(
        "borderless-narrow-ny",
        BORDERLESS_NARROW,
        NOW,
        NY,
        BORDERLESS_EXPECT._replace(
            limits=[
                Lim("5h", None, 23.0, "2026-11-25T08:44:00-05:00"),
                Lim("weekly", None, 58.0, "2026-11-28T11:24:00-05:00"),
                Lim("5h", "gpt-5.3-codex-spark", 5.0, "2026-11-25T09:00:00-05:00"),
                Lim("weekly", "gpt-5.3-codex-spark", 1.0, "2026-12-02T10:00:00-05:00"),
            ]
        ),
    ),
    Case(
        "combined-single-window-row",
        WIDE_169 + "  codex-other 5h limit:  [████████████████░░░░] 80% left (resets 09:30)\n",
        NOW,
        UTC,
        WIDE_EXPECT._replace(
            state="idle",
            limits=[*MAIN_LIMITS, Lim("5h", "codex-other", 20.0, "2026-11-25T09:30:00+00:00")],
        ),
    ),
    Case(
        "monthly-credit-wrapped-borderless",
        "/status\n\n  >_ OpenAI Codex (v0.170.0)\n\n"
        "  Monthly credit limit:   68% left\n                          (resets 07:08 on\n"
        "                          7 May)\n                          8,000 of 25,000\n"
        "                          credits used\n\n› Ask Codex to do anything\n",
        NOW,
        UTC,
        Expect(
            [CREDIT_LIMIT],
            version="0.170.0",
        ),
    ),
    Case(
        "limits-unavailable-phrasing",
        "/status\n\n  >_ OpenAI Codex (v0.169.0)\n\n  Limits:              not available for this"
        "\n                       account\n\n› Ask Codex to do anything\n",
        NOW,
        UTC,
        Expect([], version="0.169.0", warnings=["Limits: not available for this account"]),
    ),
]


GENERATION_CASES.append(
    Case(
        "reset-wrapped-to-left-edge",
        "/status\n\n  >_ OpenAI Codex (v0.169.0)\n\n  5h limit: 77% left\n  (resets 08:44)\n"
        "  Weekly limit: 42% left (resets 11:24 on 28\n  Nov)\n\n› Ask Codex to do anything\n",
        NOW,
        UTC,
        Expect(MAIN_LIMITS, version="0.169.0"),
    )
)


@cases(*GENERATION_CASES)
def test_card_generations(case: Case) -> None:
    check(case)


OLDER_CARD = WIDE_169.replace("77% left", "90% left").replace("42% left", "45% left")
CUT_CARD = """/status

╭────────────────────────────────────────────────╮
│  >_ OpenAI Codex (v0.100.0)                    │
│                                                │
│  5h limit:    [████░░░░] 20% left (resets 07:00) │"""
COMPLETE_BORDERED = """/status

╭────────────────────────────────────────────────────╮
│  >_ OpenAI Codex (v0.100.0)                        │
│                                                    │
│  5h limit:    [████████░░] 77% left (resets 08:44) │
╰────────────────────────────────────────────────────╯
"""

SCREEN_CASES = [
    Case(
        "two-cards-last-wins",
        below(OLDER_CARD, "› hello", "", "• Hi!", "", WIDE_169),
        NOW,
        UTC,
        WIDE_EXPECT,
    ),
    Case(
        "cut-card-below-complete-one",
        COMPLETE_BORDERED + "\n" + CUT_CARD,
        NOW,
        UTC,
        Expect([five_h(23.0)], state="idle", version="0.100.0"),
    ),
    Case(
        "only-a-cut-card",
        CUT_CARD,
        NOW,
        UTC,
        Expect([Lim("5h", None, 80.0, "2026-11-25T07:00:00+00:00")], version="0.100.0"),
    ),
    Case("banner-above-card-is-older", below(LESS_10 + "\n\n" + WIDE_169), NOW, UTC, WIDE_EXPECT),
    Case(
        "gauge-exact-replaces",
        below(WIDE_169, "⚠ 5h limit: 9% left · resets at 07:19 · /status"),
        NOW,
        UTC,
        WIDE_EXPECT._replace(
            limits=[Lim("5h", None, 91.0, "2026-11-25T07:19:00+00:00", "07:19"), MAIN_LIMITS[1]]
        ),
    ),
    Case(
        "gauge-without-reset-keeps-card-reset",
        below(WIDE_169, "⚠ 5h limit: 9% left · /status"),
        NOW,
        UTC,
        WIDE_EXPECT._replace(
            limits=[Lim("5h", None, 91.0, "2026-11-25T08:44:00+00:00", "08:44"), MAIN_LIMITS[1]]
        ),
    ),
    Case(
        "gauge-after-window-reset-drops-old-reset",
        below(WIDE_169, "⚠ 5h limit: 95% left · /status"),
        NOW,
        UTC,
        WIDE_EXPECT._replace(limits=[Lim("5h", None, 5.0, None), MAIN_LIMITS[1]]),
    ),
    Case(
        "gauge-without-card",
        below(
            "  >_ OpenAI Codex (v0.169.0)",
            "⚠ Weekly limit: 12% left · resets at 11:24 on 28 Nov · /status",
        ),
        NOW,
        UTC,
        Expect(
            [Lim("weekly", None, 88.0, "2026-11-28T11:24:00+00:00", "11:24 on 28 Nov")],
            version="0.169.0",
        ),
    ),
    Case(
        "less-than-contradicts",
        below(WIDE_169, LESS_10),
        NOW,
        UTC,
        without(WIDE_EXPECT, "5h", warning=LESS_10[2:]),
    ),
    Case(
        "less-than-agrees",
        below(WIDE_169.replace("77% left", "8% left"), LESS_10),
        NOW,
        UTC,
        WIDE_EXPECT._replace(limits=[five_h(92.0), MAIN_LIMITS[1]]),
    ),
    Case(
        "less-than-rounding-agrees",
        below(WIDE_169.replace("77% left", "10% left"), LESS_10),
        NOW,
        UTC,
        WIDE_EXPECT._replace(limits=[five_h(90.0), MAIN_LIMITS[1]]),
    ),
    Case(
        "used-over-contradicts",
        below(WIDE_169, OVER_90),
        NOW,
        UTC,
        without(WIDE_EXPECT, "weekly", warning=OVER_90[2:]),
    ),
    Case(
        "only-lt1-agrees",
        below(
            WIDE_169.replace("77% left", "0% left"),
            "⚠ 5h limit: only <1% left · resets at 08:44 · /status",
        ),
        NOW,
        UTC,
        WIDE_EXPECT._replace(limits=[five_h(100.0), MAIN_LIMITS[1]]),
    ),
    Case(
        "only-lt1-contradicts",
        below(WIDE_169, "⚠ 5h limit: only <1% left · resets at 08:44 · /status"),
        NOW,
        UTC,
        without(WIDE_EXPECT, "5h", warning="5h limit: only <1% left · resets at 08:44 · /status"),
    ),
    Case(
        "exact-after-stale-restores",
        below(WIDE_169, LESS_10, "⚠ 5h limit: 4% left · /status"),
        NOW,
        UTC,
        WIDE_EXPECT._replace(
            warnings=[LESS_10[2:]],
            limits=[five_h(96.0), MAIN_LIMITS[1]],
        ),
    ),
    Case(
        "usage-limit-hit-stales-main",
        below(BORDERLESS_NARROW.split("› Ask", maxsplit=1)[0], HIT_429),
        NOW,
        NY,
        BORDERLESS_EXPECT._replace(
            limits=[
                Lim("5h", "gpt-5.3-codex-spark", 5.0, "2026-11-25T09:00:00-05:00"),
                Lim("weekly", "gpt-5.3-codex-spark", 1.0, "2026-12-02T10:00:00-05:00"),
            ],
            warnings=[*BORDERLESS_EXPECT.warnings, HIT_429[2:]],
            extra={
                "usage_limit_hit": {"text": HIT_429[2:], "resets_at": "2026-11-25T15:15:00-05:00"}
            },
        ),
    ),
    Case(
        "usage-limit-hit-agrees-with-full-window",
        below(
            WIDE_169.replace("77% left", "0% left"),
            "■ You've hit your usage limit. Try again at Nov 28th, 2026 3:15 PM.",
        ),
        NOW,
        UTC,
        WIDE_EXPECT._replace(
            limits=[five_h(100.0), MAIN_LIMITS[1]],
            warnings=["You've hit your usage limit. Try again at Nov 28th, 2026 3:15 PM."],
            extra={
                "usage_limit_hit": {
                    "text": "You've hit your usage limit. Try again at Nov 28th, 2026 3:15 PM.",
                    "resets_at": "2026-11-28T15:15:00+00:00",
                }
            },
        ),
    ),
    # Codex 0.169 (real capture): the error names no window, but its retry time is the reset
    # of the window that was hit; that window is used up, the other keeps its figure.
    Case(
        "usage-limit-hit-names-5h-by-its-reset",
        below(WIDE_169, HIT_0169),
        NOW,
        UTC,
        WIDE_EXPECT._replace(
            limits=[Lim("5h", None, 100.0, "2026-11-25T08:44:00+00:00", "08:44"),
                    MAIN_LIMITS[1]],
            warnings=[HIT_0169_TEXT],
            extra={"usage_limit_hit": {"text": HIT_0169_TEXT,
                                       "resets_at": "2026-11-25T08:44:00+00:00"}},
        ),
    ),
    Case(
        "usage-limit-hit-names-weekly-by-its-reset",
        below(WIDE_169, "■ You’ve hit your usage limit. Try again at Nov 28th, 2026 11:24 AM."),
        NOW,
        UTC,
        WIDE_EXPECT._replace(
            limits=[MAIN_LIMITS[0],
                    Lim("weekly", None, 100.0, "2026-11-28T11:24:00+00:00", "11:24 on 28 Nov")],
            warnings=["You’ve hit your usage limit. Try again at Nov 28th, 2026 11:24 AM."],
            extra={"usage_limit_hit": {
                "text": "You’ve hit your usage limit. Try again at Nov 28th, 2026 11:24 AM.",
                "resets_at": "2026-11-28T11:24:00+00:00"}},
        ),
    ),
    Case(
        "usage-limit-hit-named-by-a-later-gauge-then-a-newer-figure-wins",
        below(WIDE_169, HIT_0169, "⚠ 5h limit: 4% left · resets at 08:44 · /status"),
        NOW,
        UTC,
        WIDE_EXPECT._replace(
            limits=[Lim("5h", None, 96.0, "2026-11-25T08:44:00+00:00", "08:44"),
                    MAIN_LIMITS[1]],
            warnings=[HIT_0169_TEXT],
            extra={"usage_limit_hit": {"text": HIT_0169_TEXT,
                                       "resets_at": "2026-11-25T08:44:00+00:00"}},
        ),
    ),
    Case(
        "usage-limit-hit-no-card-gauge-names-the-window",
        below("  >_ OpenAI Codex (v0.169.0)", HIT_0169,
              "     ⚠ 5h limit: only <1% left · resets at 08:44 · /status"),
        NOW,
        UTC,
        Expect([Lim("5h", None, 100.0, "2026-11-25T08:44:00+00:00", "08:44")],
               version="0.169.0",
               warnings=[HIT_0169_TEXT, "5h limit: only <1% left · resets at 08:44 · /status"],
               extra={"usage_limit_hit": {"text": HIT_0169_TEXT,
                                          "resets_at": "2026-11-25T08:44:00+00:00"}}),
    ),
    Case(
        "inexact-without-card-is-a-warning",
        below("  >_ OpenAI Codex (v0.169.0)", OVER_90),
        NOW,
        UTC,
        Expect([], version="0.169.0", warnings=[OVER_90[2:]]),
    ),
    Case(
        "status-line-items-are-exact",
        below(WIDE_169, composer=True)
        + "\n  gpt-6.1 low · 5h 60% left · weekly 40% left · Context 88% left · ~/demo\n",
        NOW,
        UTC,
        WIDE_EXPECT._replace(
            context_left_pct=88.0,
            limits=[
                five_h(40.0),
                Lim("weekly", None, 60.0, "2026-11-28T11:24:00+00:00"),
            ],
        ),
    ),
    Case(
        "footer-warnings-count-is-not-a-banner",
        below(WIDE_169) + "  ← for agents · ? for shortcuts        ⚠ 2 warnings · f2 to view\n",
        NOW,
        UTC,
        WIDE_EXPECT,
    ),
]


@cases(*SCREEN_CASES)
def test_cards_and_banners(case: Case) -> None:
    check(case)


STATE_CASES = [
    Case(
        "approval",
        "  >_ OpenAI Codex (v0.169.0)\n\n  Would you like to run the following command?\n\n"
        "  $ rm -rf build\n\n› 1. Yes, proceed\n  2. No, and tell Codex what to do differently\n",
        NOW,
        UTC,
        Expect([], state="waiting", version="0.169.0"),
    ),
    Case(
        "login",
        "  Welcome to Codex\n\n› 1. Sign in with ChatGPT\n  2. Provide your own API key\n",
        NOW,
        UTC,
        Expect([], state="waiting"),
    ),
    Case(
        "working-spinner",
        "  >_ OpenAI Codex (v0.169.0)\n\n› fix the bug\n\n"
        "• Working (12s • esc to interrupt)\n\n› Ask Codex to do anything\n",
        NOW,
        UTC,
        Expect([], state="working", version="0.169.0"),
    ),
    Case(
        "exited",
        "  >_ OpenAI Codex (v0.169.0)\n\nToken usage: total=2,520 input=2,110 output=412\n"
        "To continue this session, run codex resume 01a2116e-04ea\n$ ",
        NOW,
        UTC,
        Expect([], state="unknown", version="0.169.0"),
    ),
    Case(
        "agent-asks-in-prose-is-not-a-prompt",
        "  >_ OpenAI Codex (v0.169.0)\n\n• Done. Would you like to run the tests?\n\n"
        "› Ask Codex to do anything\n",
        NOW,
        UTC,
        Expect([], version="0.169.0"),
    ),
    Case("not-an-agent", "user@host:~$ ls\nREADME.md\n", NOW, UTC, Expect([], state="unknown")),
    Case("empty", "", NOW, UTC, Expect([], state="unknown")),
]


@cases(*STATE_CASES)
def test_pane_states(case: Case) -> None:
    check(case)


# Codex screens without a card (codex_screens): the update prompt and sign-in are real
# captures (tests/fixtures/screens/codex); the model-upgrade wording is from the 0.169.0
# binary's strings (no offline capture).
PROMPT_CASES = [
    Case(
        "model-upgrade-prompt",
        "  Codex just got an upgrade. Introducing GPT-6.2-Sol.\n\n"
        "  We recommend switching from GPT-6.1-Sol to GPT-6.2-Sol.\n\n"
        "› 1. Try new model\n  2. Use existing model\n\n  Press enter to continue\n",
        NOW,
        UTC,
        Expect([], state="waiting", screen="codex.model-upgrade"),
    ),
    Case(
        "update-prompt-narrow",
        "  Update available · 0.169.0 → 0.170.0\n\n"
        "  Release notes: https://github.com/openai/codex/releases/latest\n\n"
        "› 1. Update now (runs `npm install -g\n     @openai/codex`)\n  2. Skip\n"
        "  3. Skip until next version\n\n  enter continue · esc skip\n",
        NOW,
        UTC,
        Expect([], state="waiting", screen="codex.update"),
    ),
    Case(
        "update-banner-in-history-is-not-a-prompt",
        "│ ✨ Update available! 0.169.0 -> 0.170.0         │\n"
        "│ Run npm install -g @openai/codex to update.     │\n\n"
        "  >_ OpenAI Codex (v0.169.0)\n\n› Ask Codex to do anything\n",
        NOW,
        UTC,
        Expect([], version="0.169.0", screen="codex.main"),
    ),
    Case(
        "exec-running",
        "OpenAI Codex v0.169.0\n--------\nworkdir: /tmp/demo\nmodel: gpt-6.1-sol\n"
        "provider: openai\n--------\nuser\nsay hello\n",
        NOW,
        UTC,
        Expect([], state="working", version="0.169.0", model="gpt-6.1-sol", screen="codex.exec"),
    ),
    Case(
        "exec-hit-usage-limit-then-prompt",
        "OpenAI Codex v0.169.0\n--------\nmodel: gpt-6.1-sol\n--------\nuser\nsay hello\n"
        "ERROR: You’ve hit your usage limit. Try again at 8:44 AM.\n$ \n",
        NOW,
        UTC,
        Expect([], state="unknown", version="0.169.0", model="gpt-6.1-sol", screen="codex.exec",
               warnings=["ERROR: You’ve hit your usage limit. Try again at 8:44 AM."],
               extra={"usage_limit_hit": {
                   "text": "ERROR: You’ve hit your usage limit. Try again at 8:44 AM.",
                   "resets_at": "2026-11-25T08:44:00+00:00"}}),
    ),
]


@cases(*PROMPT_CASES)
def test_prompt_screens(case: Case) -> None:
    check(case)
