"""The shapes of secrets: detect-secrets' catalogue, plus what pane screens show that it lacks.

Secret shapes change as vendors add token formats, so panebus does not keep a private list:
it takes the regexes of every regex-based plugin of Yelp's detect-secrets (the ``denylist`` of
each ``RegexBasedDetector``) and its list of secret-sounding variable names. It does not take
detect-secrets' entropy plugins (they flag ordinary words and figures) nor its IP address plugin
(an address is not a secret), and it never calls a plugin's network verification.

On top come the shapes a terminal shows that the catalogue (1.5) does not name: Anthropic and
OpenAI project keys, Hugging Face, npm and Slack app tokens, Google OAuth access tokens,
``Authorization`` headers of any scheme, credentials in any URL, AWS STS JSON, and assignments
of secret-named variables (``PASSWORD=…``, ``"SessionToken": "…"``, ``--token …``).

:func:`catalogue` returns plain :class:`Rule` data; :mod:`scraper.redact` compiles each rule
and :mod:`scraper.secret_index` one combined regex of their literals. Loading the plugins costs
about 0.1 s (they import ``requests``), once per process, when the first redactor is built.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import logging
import pkgutil
import re
import typing as t

from scraper.secret_index import trie_pattern

logger = logging.getLogger(__name__)

#: Plugins not taken: an IP address is not a secret, and ``PrivateKeyDetector`` only names
#: the header line (the ``private-key`` rule below masks the whole block).
SKIPPED_PLUGINS = frozenset({"IPPublicDetector", "PrivateKeyDetector"})

#: detect-secrets ``secret_type`` → the short kind shown in ``[REDACTED:<kind>]``.
KIND_NAMES = {
    "AWS Access Key": "aws-access-key",
    "Basic Auth Credentials": "url-credentials",
    "GitHub Token": "github-token",
    "GitLab Token": "gitlab-token",
    "JSON Web Token": "jwt",
    "OpenAI Token": "openai-key",
    "Slack Token": "slack-token",
    "Stripe Access Key": "stripe-key",
    "NPM tokens": "npm-token",
}

#: Names of variables, keys and flags whose value is a secret, beyond detect-secrets' keyword
#: list (``_?``: an optional underscore, as there).
EXTRA_KEYWORDS = (
    "api-key",
    "secret-key",
    "credential",
    "passphrase",
    "client_?secret",
    "secret_?access_?key",
    "signing_?key",
    "encryption_?key",
)
#: Tokens only in compound names (``GITHUB_TOKEN``, ``access_token``, ``SessionToken``), never a
#: bare "token": ``Tokens: 45.2k/88k`` on a usage screen is a figure.
COMPOUND_TOKEN = r"(?<=[a-z0-9_\-.])token"

#: Variable names a keyword matches that hold no secret (the shell's working directory).
NOT_SECRET_NAMES = frozenset({"pwd", "oldpwd"})
#: …or that name where a secret is kept, or how many there are (``TOKEN_URL``, ``KEY_FILE``,
#: ``cache_read_tokens``).
_NOT_SECRET_NAME_PARTS = re.compile(
    r"(?:url|uri|path|file|dir|endpoint|host|count|usage|limit|length|len|size|id)s?(?:$|[_\-])"
    r"|tokens(?:$|[_\-])"  # plural: how many (``input_tokens``, ``max_tokens``), not a token
)


@dataclasses.dataclass(frozen=True)
class Rule:
    """One secret shape.

    ``pattern`` is regex source compiled with ``flags``; the span masked is the group named
    ``secret`` if it has one, else its first group of at least :data:`MIN_GROUP` characters,
    else the whole match. ``check`` may veto a match: it gets the whole match and the secret's
    text. ``context`` rules name a secret by what stands before it (``PASSWORD=``), shape rules
    by what it looks like; where both match, the shape's kind is shown.
    """

    kind: str
    pattern: str
    flags: int = 0
    context: bool = False
    source: str = "panebus"
    spans_lines: bool = False  # may match across lines (a private key block)
    #: Literals one of which every match holds, when the redactor cannot read them off the
    #: pattern (a trie of words): see :mod:`scraper.secret_index`.
    anchors: frozenset[str] | None = None
    check: t.Callable[[str, str], bool] | None = None


MIN_GROUP = 8

#: Characters of a token; a match is widened to the whole run of them (a catalogue regex that
#: stops after 24 characters of a 99-character key must not leave the rest on screen).
TOKEN_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-+/=~."
)
#: Widening to the left stops at these too, so ``KEY=`` and ``Bearer`` stay readable.
LEFT_STOP = frozenset("=/+.~")


def _assignment_is_secret(match_text: str, value: str) -> bool:
    """A keyword's value is a secret unless it is a placeholder, a figure, or a reference, or
    the variable is one that only looks secret (``PWD``)."""
    name = re.split(r"[\"'`\]\s:=]", match_text, maxsplit=1)[0].lower().lstrip("-")
    if name in NOT_SECRET_NAMES or _NOT_SECRET_NAME_PARTS.search(name):
        return False
    if value.startswith(("http://", "https://", "/", "./", "../", "~/")):
        return False  # where a secret is, not the secret (``TOKEN_URL=https://…``)
    if len(value) < MIN_GROUP or value.startswith(("[REDACTED", "$", "<", "%", "{{", "${")):
        return False
    if not any(char.isalpha() for char in value):
        return False  # 12,345 or 2026-11-25: figures and dates
    letters = {char.lower() for char in value if char.isalnum()}
    if len(letters) <= 2:
        return False  # ******** xxxxxxxx  placeholders
    quoted = len(match_text) > len(value) and match_text[-len(value) - 1] in "\"'`"
    if not quoted and _CODE.match(value):
        return False  # code on screen (an agent's diff): ``secret = keys.load(path)``
    if _NAME_OF_A_SECRET.match(value):
        return False  # prose about names: ``CLAUDE_CODE_OAUTH_TOKEN``: ``auth_token``
    return value.lower() not in {"required", "optional", "password", "undefined", "changeme"}


#: A snake_case name that itself says key or token is a name, not the key.
_NAME_OF_A_SECRET = re.compile(
    r"(?=[a-z_]*(?:token|key|secret|pass|auth|cred))[a-z]+(?:_[a-z]+)+$"
)
#: An unquoted value that is code, not a secret: a call, a literal, an attribute path.
_CODE = re.compile(
    r"[A-Za-z_][\w.]*\(|[\[{(]|[A-Za-z_]+(?:\.[A-Za-z_]+)+(?:[\[(,;)\]].*)?$"
)


#: A value: up to a space, quote, comma or semicolon, or an ``&`` that starts the next
#: ``name=`` of a URL query (``id_token=…&state=…``).
SECRET = r"(?P<secret>(?!\[REDACTED)[^\s\"'`,;&]+(?:&(?![\w.\-]+=)[^\s\"'`,;&]*)*)"

PANEBUS_SHAPES: tuple[Rule, ...] = (
    Rule(
        "private-key",
        r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
        r"(?:-----END [A-Z ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
        spans_lines=True,
    ),
    Rule("anthropic-key", r"\bsk-ant-[A-Za-z0-9_\-]{8,}"),
    Rule("openai-project-key", r"\bsk-proj-[A-Za-z0-9_\-]{8,}"),
    Rule("openai-key", r"\bsk-(?:svcacct|admin|None)-[A-Za-z0-9_\-]{16,}"),
    # Any other sk- token of 20+ characters with a digit in it (prose like
    # "sk-learn-compatible-interface" has none).
    Rule("openai-key", r"\bsk-(?=[A-Za-z_\-]*\d)[A-Za-z0-9_\-]{20,}"),
    Rule("github-token", r"\bgithub_pat_[A-Za-z0-9_]{20,}"),
    Rule("github-token", r"\bgh[pousr]_[A-Za-z0-9]{20,}"),
    Rule("aws-access-key", r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b"),
    Rule("stripe-key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    Rule("stripe-key", r"\bwhsec_[A-Za-z0-9]{24,}"),
    Rule("huggingface-token", r"\bhf_[A-Za-z0-9]{30,}"),
    Rule("huggingface-token", r"\bapi_org_[A-Za-z0-9]{30,}"),
    Rule("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    Rule("slack-token", r"\bxox[a-z]-[A-Za-z0-9\-]{8,}"),
    Rule("slack-token", r"\bxapp-\d-[A-Za-z0-9\-]{16,}"),
    Rule("slack-webhook", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/[\w/\-]{16,}"),
    Rule("google-oauth-token", r"\bya29\.[0-9A-Za-z_\-]{20,}"),
    Rule("google-oauth-token", r"\b1//0[0-9A-Za-z_\-]{30,}"),
    Rule("google-client-secret", r"\bGOCSPX-[0-9A-Za-z_\-]{20,}"),
    Rule("google-api-key", r"\bAIza[0-9A-Za-z_\-]{35}"),
    Rule("jwt", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    Rule("digitalocean-token", r"\bdo[opr]_v1_[a-f0-9]{64}\b"),
    Rule("shopify-token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    Rule("doppler-token", r"\bdp\.(?:st|ct|pt|sa|scim|audit)\.[A-Za-z0-9_\-]{20,}"),
    Rule("age-secret-key", r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b"),
)

_AUTH_SCHEMES = r"(?:bearer|basic|token|digest|bot|apikey|api-key)"
PANEBUS_CONTEXTS: tuple[Rule, ...] = (
    # Authorization headers of any scheme, as a header or a JSON/YAML key.
    Rule(
        "authorization",
        rf"\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?{_AUTH_SCHEMES}\s+{SECRET}",
        re.IGNORECASE,
        context=True,
    ),
    Rule("authorization", r"\bbearer\s+(?P<secret>[A-Za-z0-9._~+/\-]{20,}=*)",
         re.IGNORECASE, context=True),
    Rule(
        "api-key-header",
        rf"\b(?:x-api-key|x-auth-token|private-token|x-goog-api-key|api-key)[\"']?\s*:\s*"
        rf"[\"']?{SECRET}",
        re.IGNORECASE,
        context=True,
    ),
    # Credentials in any URL (scheme://user:password@host).
    Rule("url-credentials", r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@\"'`]*:(?P<secret>[^\s/@\"'`]+)@",
         context=True),
    # AWS STS / credentials JSON and files.
    Rule(
        "aws-secret-key",
        rf"[\"']?(?:aws_?)?(?:secret_?access_?key|session_?token|security_?token)[\"']?"
        rf"\s*[:=]\s*[\"']?{SECRET}",
        re.IGNORECASE,
        context=True,
    ),
    # npm's .npmrc line (also in the catalogue, which needs the registry part).
    Rule("npm-token", rf"_authToken\s*=\s*{SECRET}", context=True),
)


def _spellings(keyword: str) -> list[str]:
    """``api_?key`` → ``api_key``, ``apikey`` (detect-secrets' keywords use only ``_?``)."""
    head, sep, tail = keyword.partition("_?")
    if not sep:
        return [keyword]
    return [f"{head}{middle}{rest}" for middle in ("_", "") for rest in _spellings(tail)]


def _keyword_rules(keywords: t.Iterable[str]) -> tuple[Rule, ...]:
    """Assignments to secret-named variables: ``NAME=v``, ``NAME: v``, ``"name": "v"``,
    ``name := v``, ``--name v`` / ``--name=v``. The names form a trie so the regex follows one
    branch per character (an alternation of 30 words under IGNORECASE is slow in ``re``)."""
    words = sorted({spelling.lower() for word in keywords for spelling in _spellings(word)})
    if any(re.escape(word) != word.replace("-", "\\-") for word in words):
        msg = f"a secret keyword is not a plain word: {words}"
        raise ValueError(msg)
    key = rf"(?:{trie_pattern(words)}|{COMPOUND_TOKEN})[A-Za-z0-9_\-]*"
    assign = r"[\"'`\]]{0,2}\s*(?::=|=>|==?|:)\s*[\"'`]?"
    literals = frozenset((*words, "token"))
    return (
        Rule("secret-assignment", rf"{key}{assign}{SECRET}", re.IGNORECASE,
             context=True, check=_assignment_is_secret, anchors=literals),
        Rule("secret-assignment", rf"(?<![\w-])--?{key}[ =]{SECRET}", re.IGNORECASE,
             context=True, check=_assignment_is_secret, anchors=literals),
    )


def _kind(secret_type: str) -> str:
    return KIND_NAMES.get(secret_type) or re.sub(r"[^a-z0-9]+", "-", secret_type.lower()).strip("-")


def _plugin_rules() -> tuple[list[Rule], tuple[str, ...]]:
    """Every regex of detect-secrets' regex plugins, and its secret-sounding keywords."""
    from detect_secrets import plugins  # noqa: PLC0415 - heavy (requests); loaded once, lazily
    from detect_secrets.plugins import keyword  # noqa: PLC0415
    from detect_secrets.plugins.base import RegexBasedDetector  # noqa: PLC0415

    rules: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(plugins.__path__), key=lambda item: item.name):
        module = importlib.import_module(f"{plugins.__name__}.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ != module.__name__
                or not issubclass(cls, RegexBasedDetector)
                or inspect.isabstract(cls)
                or name in SKIPPED_PLUGINS
            ):
                continue
            kind = _kind(str(cls.secret_type))
            for regex in t.cast("t.Iterable[re.Pattern[str]]", cls.denylist):
                flags = regex.flags & (re.IGNORECASE | re.VERBOSE | re.DOTALL)
                rules.append(Rule(kind, regex.pattern, flags, source=f"detect-secrets:{name}"))
    keywords = tuple(str(word) for word in keyword.DENYLIST)
    return rules, keywords


@functools.cache
def catalogue() -> tuple[Rule, ...]:
    """Shape rules first (panebus's names win for the kinds it knows), then context rules."""
    plugin_rules, keywords = _plugin_rules()
    logger.debug(
        "secret catalogue loaded",
        extra={"plugin_rules": len(plugin_rules), "keywords": len(keywords)},
    )
    keyword_rules = _keyword_rules((*keywords, *EXTRA_KEYWORDS))
    return (*PANEBUS_SHAPES, *plugin_rules, *PANEBUS_CONTEXTS, *keyword_rules)

