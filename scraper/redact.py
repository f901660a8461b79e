"""Mask secrets in pane text before anything leaves the scraper.

Pane screens show what people paste and what tools print: API keys, tokens, ``Authorization``
headers. Every text the scraper publishes (the raw ``text`` and the text handed to the parsers)
passes through :meth:`Redactor.redact` first, so a secret on screen never reaches the bus, the
archive or an alias file. Each secret is replaced by ``[REDACTED:<kind>]`` so a reader still
sees that something was there and what it was.

Pure: no I/O, no clock. Patterns are ordered from the most specific to the most general so
``sk-ant-…`` is named ``anthropic-key`` rather than ``openai-key``.
"""

from __future__ import annotations

import collections
import dataclasses
import re
import typing as t

#: (kind, pattern). A pattern with a group named ``secret`` masks only that group, so the
#: label before it (``Authorization: Bearer``, ``aws_secret_access_key =``) stays readable.
BUILTIN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{8,}"),
    ("openai-project-key", r"\bsk-proj-[A-Za-z0-9_\-]{8,}"),
    ("openai-key", r"\bsk-(?:svcacct|admin|None)-[A-Za-z0-9_\-]{16,}"),
    # Any other sk- token of 20+ characters with a digit in it (prose like
    # "sk-learn-compatible-interface" has none).
    ("openai-key", r"\bsk-(?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{20,}"),
    ("github-token", r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    ("github-token", r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    ("aws-access-key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b"),
    (
        "aws-secret-key",
        r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{20,})",
    ),
    ("slack-token", r"\bxox[abeoprs]-[A-Za-z0-9\-]{8,}"),
    ("bearer-token", r"(?i)\bauthorization\s*:\s*bearer\s+(?P<secret>[A-Za-z0-9._~+/\-]+=*)"),
    ("bearer-token", r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9._~+/\-]{20,}=*)"),
    ("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    ("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    (
        "private-key",
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
    ),
)


@dataclasses.dataclass(frozen=True)
class Redacted:
    """The masked text and how many secrets of each kind were masked."""

    text: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        """Number of secrets masked."""
        return sum(self.counts.values())


class PatternError(ValueError):
    """A configured redaction pattern does not compile; ``kind`` names it."""


class Redactor:
    """Compiled redaction patterns (built-in first, then the configured ones)."""

    def __init__(self, extra: t.Iterable[tuple[str, str]] = ()) -> None:
        compiled: list[tuple[str, re.Pattern[str]]] = []
        for kind, pattern in (*BUILTIN_PATTERNS, *extra):
            try:
                compiled.append((kind, re.compile(pattern)))
            except re.error as exc:
                msg = f"redaction pattern {kind!r} does not compile: {exc}"
                raise PatternError(msg) from None
        self._patterns = tuple(compiled)

    def redact(self, text: str) -> Redacted:
        """Return ``text`` with every secret replaced by ``[REDACTED:<kind>]``."""
        counts: collections.Counter[str] = collections.Counter()
        for kind, pattern in self._patterns:
            text = pattern.sub(_masker(kind, counts), text)
        return Redacted(text=text, counts=dict(counts))


def _masker(kind: str, counts: collections.Counter[str]) -> t.Callable[[re.Match[str]], str]:
    label = f"[REDACTED:{kind}]"

    def mask(match: re.Match[str]) -> str:
        counts[kind] += 1
        if "secret" in match.re.groupindex and match.group("secret") is not None:
            start, end = match.span("secret")
            whole_start = match.start()
            whole = match.group(0)
            return whole[: start - whole_start] + label + whole[end - whole_start :]
        return label

    return mask


_DEFAULT = Redactor()


def redact(text: str) -> Redacted:
    """Redact with the built-in patterns only (for callers without a config)."""
    return _DEFAULT.redact(text)
