"""Redaction: every kind of secret is masked and named; ordinary screen text is untouched."""

from __future__ import annotations

import typing as t

import pytest

from scraper.redact import PatternError, Redactor, redact
from scraper.secret_index import AnchorIndex, plan
from scraper.secrets_catalogue import catalogue


class Case(t.NamedTuple):
    test_id: str
    text: str
    kind: str
    secret: str


CASES = [
    Case("openai", "key: sk-abcdefghijklmnopqrstuvwx1234", "openai-key", "sk-abcdefghijklmnop"),
    Case("openai-project", "OPENAI_API_KEY=sk-proj-AbCdEf0123456789_xyz", "openai-project-key",
         "sk-proj-AbCdEf"),
    Case("anthropic", "export ANTHROPIC_API_KEY=sk-ant-api03-Zz9_8Yy7-Xx6Ww5", "anthropic-key",
         "sk-ant-api03"),
    Case("github-classic", "token ghp_0123456789abcdefghijABCDEFGHIJ0123", "github-token",
         "ghp_0123456789"),
    Case("github-oauth", "gho_0123456789abcdefghijABCDEFGHIJ0123 ok", "github-token", "gho_0123"),
    Case("github-pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "github-token",
         "github_pat_11ABC"),
    Case("aws-access", "AKIAIOSFODNN7EXAMPLE in env", "aws-access-key", "AKIAIOSFODNN7EXAMPLE"),
    Case("aws-secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
         "aws-secret-key", "wJalrXUtnFEMI"),
    Case("openai-svcacct", "sk-svcacct-AbCdEfGhIjKlMnOpQrSt", "openai-key", "sk-svcacct-AbCd"),
    Case("slack", "xoxb-123456789012-abcdefghijkl", "slack-token", "xoxb-1234"),
    Case("bearer-header", "curl -H 'Authorization: Bearer abc.def-ghi_jkl'", "authorization",
         "abc.def-ghi_jkl"),
    Case("jwt", "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
         "jwt", "eyJhbGciOiJIUzI1NiJ9"),
    # The ones issue 13 found passing unmasked.
    Case("url-credentials", "postgres://admin:hunter2supersecret@db.internal/prod",
         "url-credentials", "hunter2supersecret"),
    Case("secret-variable", "PASSWORD=CorrectHorseBatteryStaple9", "secret-assignment",
         "CorrectHorseBatteryStaple9"),
    Case("basic-header", "Authorization: Basic YWRtaW46aHVudGVyMnN1cGVyc2VjcmV0",
         "authorization", "YWRtaW46aHVudGVy"),
    Case("gitlab", "glpat-AbCdEfGhIjKlMnOpQrSt1234", "gitlab-token", "glpat-AbCdEf"),
    Case("stripe-live", "sk_live_51HqLyjWDarjtT1zdp7dcXyzAbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
         "stripe-key", "Yz0123456789"),
    Case("huggingface", "hf_AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "huggingface-token",
         "hf_AbCdEfGh"),
    Case("sts-secret", '"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",',
         "aws-secret-key", "wJalrXUtnFEMI"),
    Case("sts-session", '"SessionToken": "FwoGZXIvYXdzEBYaDEXAMPLETOKENabcdefghijklmnop=="',
         "aws-secret-key", "FwoGZXIvYXdz"),
    Case("npm", "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "npm-token", "npm_AbCdEf"),
    Case("slack-app", "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef", "slack-token",
         "xapp-1-A0123"),
    Case("slack-webhook",
         "https://hooks.slack.com/services/T01234567/B01234567/AbCdEfGhIjKlMnOpQrStUvWx",
         "slack-webhook", "AbCdEfGhIjKlMnOp"),
    Case("google-oauth", "ya29.a0AfH6SMBexampleexampleexampleexample", "google-oauth-token",
         "a0AfH6SMBexample"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_secret_is_masked_and_named(case: Case) -> None:
    result = redact(case.text)
    assert case.secret not in result.text
    assert f"[REDACTED:{case.kind}]" in result.text
    assert result.counts.get(case.kind) == 1


def test_label_before_the_secret_stays_readable() -> None:
    result = redact("Authorization: Bearer abcdefghijklmnop")
    assert result.text == "Authorization: Bearer [REDACTED:authorization]"
    assert redact("PASSWORD=CorrectHorseBatteryStaple9").text == (
        "PASSWORD=[REDACTED:secret-assignment]"
    )
    assert redact("postgres://admin:hunter2supersecret@db.internal/prod").text == (
        "postgres://admin:[REDACTED:url-credentials]@db.internal/prod"
    )


def test_a_match_is_widened_to_the_whole_token() -> None:
    # The catalogue's Stripe rule stops after 24 characters; the key goes on for 75 more.
    key = "sk_live_" + "a1B2" * 24
    result = redact(f"key {key}.")
    assert result.text == "key [REDACTED:stripe-key]."


def test_ordinary_agent_screen_is_untouched() -> None:
    screen = (
        "  5h limit:             [████████████░░░░░░░░] 77% left (resets 08:44)\n"
        "  Model: gpt-5.1-codex (reasoning low) · sk- is a prefix · task-1234\n"
        "  pip install sk-learn-compatible-interface\n"
        "  Tokens: 45.2k/88k  Cost: $12.34  Messages: 12/250  Token usage: 1,234,567\n"
        "  PWD=/home/user/project  Password: ********  api_key: <your key here>\n"
        "  CODEX_REFRESH_TOKEN_URL_OVERRIDE=https://127.0.0.1:18443/oauth/token\n"
        "❯ fix the skipped tests in sk_utils.py"
    )
    result = redact(screen)
    assert result.text == screen
    assert result.total == 0


def test_counts_several_secrets() -> None:
    text = "sk-ant-aaaaaaaaaaaa and sk-ant-bbbbbbbbbbbb and AKIAABCDEFGHIJKLMNOP"
    result = Redactor().redact(text)
    assert result.counts == {"anthropic-key": 2, "aws-access-key": 1}
    assert result.total == 3


def test_redacting_twice_changes_nothing_more() -> None:
    once = redact("PASSWORD=CorrectHorseBatteryStaple9 and sk-ant-api03-abcdefghijkl")
    twice = redact(once.text)
    assert twice.text == once.text
    assert twice.total == 0


def test_key_wrapped_in_a_box_is_masked_on_both_lines() -> None:
    screen = (
        "╭────────────────────────────────────────╮\n"
        "│ export KEY=sk-ant-api03-abcdefghijklmn │\n"
        "│ opqrstuvwxyz0123456789                 │\n"
        "╰────────────────────────────────────────╯"
    )
    result = redact(screen)
    assert "abcdefghijklmn" not in result.text
    assert "opqrstuvwxyz0123456789" not in result.text
    assert result.counts == {"anthropic-key": 1}
    # The box is still a box: borders and line count kept.
    lines = result.text.splitlines()
    assert len(lines) == 4
    assert all(line.startswith(("│", "╭", "╰")) for line in lines)


def test_key_soft_wrapped_at_the_screen_edge_is_masked_whole() -> None:
    rule = "─" * 60
    head = "  the token that we use for the deploy is ghp_0123456789abcd"
    assert len(head) == 60  # the agent filled the line to the edge and went on below
    screen = f"{rule}\n{head}\n  efghijABCDEFGHIJ012345 done\n"
    result = redact(screen)
    assert "0123456789abcd" not in result.text
    assert "efghijABCDEFGHIJ012345" not in result.text
    assert result.text.endswith(" done\n")


def test_a_short_line_is_not_joined_with_the_next() -> None:
    screen = "─" * 60 + "\n  ghp\n  _0123456789abcdefghijABCDEFGHIJ0123 is not one token\n"
    assert redact(screen).text == screen


def test_colour_escapes_inside_a_key_do_not_hide_it() -> None:
    screen = "\x1b[31msk-ant-api03-abc\x1b[0mdefghijklmnopqrstu\n"
    result = redact(screen)
    assert "defghijklmnopqrstu" not in result.text
    assert "\x1b[31m" in result.text  # escapes outside the key are kept


def test_configured_pattern() -> None:
    redactor = Redactor([("internal-token", r"itk_[A-Za-z0-9]{8}")])
    result = redactor.redact("use itk_ABCD1234 here")
    assert result.text == "use [REDACTED:internal-token] here"


def test_configured_pattern_names_what_it_matches_first() -> None:
    redactor = Redactor([("our-anthropic", r"sk-ant-[a-z]+")])
    assert redactor.redact("sk-ant-abcdefghijkl").text == "[REDACTED:our-anthropic]"


def test_bad_configured_pattern_is_named() -> None:
    with pytest.raises(PatternError, match="broken"):
        Redactor([("broken", "([unclosed")])


def test_pane_fields_are_redacted() -> None:
    pane = {"pane_id": "%3", "title": "deploy ghp_0123456789abcdefghijABCDEFGHIJ0123",
            "command": "codex", "width": 120}
    fields, masked = Redactor().redact_fields(pane)
    assert fields == {"pane_id": "%3", "title": "deploy [REDACTED:github-token]",
                      "command": "codex", "width": 120}
    assert masked == 1


def test_the_catalogue_comes_from_detect_secrets() -> None:
    sources = {rule.source for rule in catalogue()}
    plugins = {source.split(":", 1)[1] for source in sources if source.startswith("detect-")}
    assert {"GitLabTokenDetector", "StripeDetector", "SlackDetector", "BasicAuthDetector",
            "AWSKeyDetector", "JwtTokenDetector"} <= plugins
    # Never the entropy plugins (ordinary words and figures) nor public IPs.
    assert not {p for p in plugins if "Entropy" in p or p == "IPPublicDetector"}


@pytest.mark.parametrize("rule", catalogue(), ids=lambda rule: f"{rule.kind}:{rule.pattern[:24]}")
def test_every_rule_is_found_where_its_index_says(rule: t.Any) -> None:
    """The index may skip a line only if the rule cannot match there: a rule's own example
    (a line that it matches) must be among the spans the index gives for it."""
    import re

    index = AnchorIndex([plan(rule.pattern, rule.flags, rule.anchors)], [rule.spans_lines])
    for sample in SAMPLES:
        for line in sample.splitlines():
            if re.search(rule.pattern, line, rule.flags | re.MULTILINE):
                spans = index.rule_spans(line)
                assert any(
                    re.compile(rule.pattern, rule.flags | re.MULTILINE).search(line, s.start, s.end)
                    for s in spans
                ), (rule.kind, line)


SAMPLES = [case.text for case in CASES] + [
    "AKC" + "a" * 20 + " x",
    " APB0123456789 ",
    "M" + "a" * 23 + "." + "b" * 6 + "." + "c" * 27,
    "123456789:" + "A" * 35,
    "0123456789abcdef0123456789abcdef-us12",
    "SK" + "0123456789abcdef" * 2,
    'cloudant_password = "' + "0" * 64 + '"',
    "ibm_cloud_iam_key = " + "a" * 44,
    "AccountKey=" + "a" * 88,
    "sq0csp-" + "a" * 43,
    "SG." + "a" * 22 + "." + "b" * 43,
    "pypi-AgEIcHlwaS5vcmc" + "a" * 70,
    "//registry.npmjs.org/:_authToken=npm_" + "a" * 36,
    "sk-" + "a" * 20 + "T3BlbkFJ" + "b" * 20,
]


@pytest.mark.parametrize(
    "line",
    [
        "secret = keys.load_keys(path)",
        "sock.curve_secretkey = server_keys.secret",
        "api_key = os.environ['OPENAI_API_KEY']",
        "password: settings.DB_PASSWORD",
        "token = self.tokens[0]",
        '"secrets": dict(report.counts),',
        "credential comes from `CLAUDE_CODE_OAUTH_TOKEN`: `auth_token`, `api_key_source`",
        '"cache_read_tokens": cache_read,',
        "self.tokens: dict[str, t.Any] | None = None",
    ],
)
def test_code_and_names_on_screen_are_not_secrets(line: str) -> None:
    """An agent's diff shows code that assigns secrets; the code is not the secret."""
    assert redact(line).text == line


def test_a_quoted_value_is_a_secret_even_with_code_characters() -> None:
    assert "h3k(x9" not in redact("SECRET_KEY = 'h3k(x9@zq8)pl&m2'").text
    assert "Pass9" not in redact("password: hunter2.example.Pass9").text
