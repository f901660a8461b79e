"""Redaction: every kind of secret is masked and named; ordinary screen text is untouched."""

from __future__ import annotations

import typing as t

import pytest

from scraper.redact import PatternError, Redactor, redact


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
    Case("bearer-header", "curl -H 'Authorization: Bearer abc.def-ghi_jkl'", "bearer-token",
         "abc.def-ghi_jkl"),
    Case("jwt", "token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N",
         "jwt", "eyJhbGciOiJIUzI1NiJ9"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_secret_is_masked_and_named(case: Case) -> None:
    result = redact(case.text)
    assert case.secret not in result.text
    assert f"[REDACTED:{case.kind}]" in result.text
    assert result.counts.get(case.kind) == 1


def test_label_before_the_secret_stays_readable() -> None:
    result = redact("Authorization: Bearer abcdefghijklmnop")
    assert result.text == "Authorization: Bearer [REDACTED:bearer-token]"


def test_ordinary_agent_screen_is_untouched() -> None:
    screen = (
        "  5h limit:             [████████████░░░░░░░░] 77% left (resets 08:44)\n"
        "  Model: gpt-5.1-codex (reasoning low) · sk- is a prefix · task-1234\n"
        "  pip install sk-learn-compatible-interface\n"
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


def test_configured_pattern() -> None:
    redactor = Redactor([("internal-token", r"itk_[A-Za-z0-9]{8}")])
    result = redactor.redact("use itk_ABCD1234 here")
    assert result.text == "use [REDACTED:internal-token] here"


def test_bad_configured_pattern_is_named() -> None:
    with pytest.raises(PatternError, match="broken"):
        Redactor([("broken", "([unclosed")])
