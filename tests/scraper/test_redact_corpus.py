"""The secret corpus: masked in every layout, through real tmux, the bus, the archive and the
alias cache; and the reverse: no figure, reset time or model name on any real screen masked.

The corpus (``tests/fixtures/secrets/corpus.jsonl``, synthetic) is checked strictly: no piece of
8 characters of any secret may survive, so a key masked on one line of a box but not on the
next one fails.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gzip
import json
import typing as t

import pytest

from bus.codec import dumps
from bus.paths import Paths
from bus.publisher import Publisher
from scraper.config import ScraperConfig, ServerSpec
from scraper.parsers.registry import parse_screen
from scraper.redact import Redactor
from scraper.scrape import Scraper
from sinks.base import SinkRunner, build_sink
from sinks.config import ArchiveConfig, SinksConfig
from tests import FIXTURES
from tests.scraper.conftest import CODEX_STATUS, new_pane, wait_drawn
from tests.waiting import wait_for

if t.TYPE_CHECKING:
    from pathlib import Path

    import libtmux

    from bus.endpoints import Endpoints
    from tests.scraper.conftest import Collector, StandIns

WINDOW = 8  # no piece this long of a secret may survive
BOX_WIDTH = 72
WRAP_WIDTH = 76
SEEN = dt.datetime(2026, 11, 25, 6, 40, tzinfo=dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class Secret:
    kind: str
    line: str
    secret: str


def corpus() -> list[Secret]:
    path = FIXTURES / "secrets" / "corpus.jsonl"
    return [Secret(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines()]


def leaks(secret: str, text: str) -> list[str]:
    """Pieces of ``secret`` (``WINDOW`` long, within one line) still in ``text``."""
    pieces = {secret[i : i + WINDOW] for i in range(max(1, len(secret) - WINDOW + 1))}
    return sorted(piece for piece in pieces if "\n" not in piece and piece in text)


# -- layouts: how agents and shells put a line on screen ------------------------------------------
def plain(line: str, secret: str) -> str:
    del secret
    return line


def boxed(line: str, secret: str) -> str:
    """Inside a card like Codex's (``│ … │``), long lines wrapped at the border."""
    del secret
    inner = BOX_WIDTH - 4
    rows = ["╭" + "─" * (BOX_WIDTH - 2) + "╮"]
    for part in line.split("\n"):
        rows += [
            "│ " + part[i : i + inner].ljust(inner) + " │" for i in range(0, len(part) or 1, inner)
        ]
    return "\n".join([*rows, "╰" + "─" * (BOX_WIDTH - 2) + "╯"])


def split_in_box(line: str, secret: str) -> str:
    """A box exactly as wide as the text up to the middle of the secret: the key is cut in two."""
    first = line.split("\n", maxsplit=1)[0]
    if secret not in first:
        return boxed(line, secret)
    width = max(first.index(secret) + len(secret) // 2, 12)
    rows = ["│ " + first[i : i + width].ljust(width) + " │" for i in range(0, len(first), width)]
    return "\n".join(["╭" + "─" * (width + 2) + "╮", *rows, "╰" + "─" * (width + 2) + "╯"])


def soft_wrapped(line: str, secret: str, width: int = WRAP_WIDTH) -> str:
    """The agent's own wrapping: lines filled to the screen edge, continued indented; the
    secret starts near the edge so the wrap cuts it."""
    head = line.split("\n", maxsplit=1)[0]
    cut = head.index(secret) if secret in head else 0
    pad = max(0, width - 2 - cut - len(secret) // 2)
    rows = ["─" * width]
    for part in (" " * pad + line).split("\n"):
        text = "  " + part
        while len(text) > width:
            rows.append(text[:width])
            text = "  " + text[width:]
        rows.append(text)
    return "\n".join(rows)


LAYOUTS = (plain, boxed, split_in_box, soft_wrapped)


def test_corpus_is_big_and_varied() -> None:
    secrets = corpus()
    assert len(secrets) >= 60
    assert len({secret.kind for secret in secrets}) == len(secrets)
    for secret in secrets:
        assert secret.secret in secret.line
        assert len(secret.secret) >= WINDOW


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.__name__)
def test_every_secret_is_masked_in_every_layout(layout: t.Callable[[str, str], str]) -> None:
    redactor = Redactor()
    missed = {}
    for secret in corpus():
        screen = layout(secret.line, secret.secret)
        found = leaks(secret.secret, redactor.redact(screen).text)
        if found:
            missed[secret.kind] = found[:2]
    assert not missed


def fixture_screens() -> list[Path]:
    screens = sorted((FIXTURES / "screens").glob("*/*.txt"))
    assert screens, "fixture screens missing"
    return [*screens, *sorted((FIXTURES / "codex" / "snapshots").glob("*.snap"))]


@pytest.mark.parametrize("path", fixture_screens(), ids=lambda path: path.name)
def test_no_figure_is_masked_on_a_real_screen(path: Path) -> None:
    """What the parsers read (limits, percentages, reset times, model, state) is the same
    before and after redaction, and nothing on these screens is taken for a secret."""
    text = path.read_text(encoding="utf-8")
    result = Redactor().redact(text)
    assert result.counts == {}
    assert result.text == text
    for provider in ("auto", "codex", "claude", "claude-monitor"):
        before = parse_screen(text, SEEN, dt.timezone.utc, provider)
        after = parse_screen(result.text, SEEN, dt.timezone.utc, provider)
        assert (before and before.to_dict()) == (after and after.to_dict())


# -- end to end: real tmux panes, the scraper, the bus, the archive and the alias cache ---------
PANE_WIDTH = 160


@pytest.fixture
def session_params() -> dict[str, t.Any]:
    """Panes large enough for a status card and a page of secrets."""
    return {"x": PANE_WIDTH, "y": 60}


def pane_layout(number: int) -> t.Callable[[str, str], str]:
    """The layouts in turn; soft wrapping at the pane's width, less the agents' margin."""
    layout = LAYOUTS[number % len(LAYOUTS)]
    if layout is soft_wrapped:
        return functools.partial(soft_wrapped, width=PANE_WIDTH - 2)
    return layout


def pages(secrets: list[Secret], per_page: int = 6) -> list[str]:
    """Screens of a Codex status card followed by secrets in the four layouts in turn."""
    card = CODEX_STATUS.read_text(encoding="utf-8").rstrip("\n").splitlines()[-22:]
    screens = []
    for start in range(0, len(secrets), per_page):
        rows = list(card)
        for number, secret in enumerate(secrets[start : start + per_page], start):
            rows.append(pane_layout(number)(secret.line, secret.secret))
        screens.append("\n".join(rows) + "\n")
    return screens


def read_everything(root: Path) -> str:
    """Every file under ``root`` as text (gzipped segments unpacked)."""
    parts = []
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name.endswith(".gz"):
                data = gzip.decompress(data)
            parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


@pytest.mark.slow
def test_corpus_written_into_tmux_panes_never_leaves_the_scraper(
    session: libtmux.Session,
    standins: StandIns,
    collector: Collector,
    endpoints: Endpoints,
    tmp_path: Path,
) -> None:
    server = session.server
    secrets = corpus()
    screens = pages(secrets)
    panes = []
    for number, screen in enumerate(screens):
        screen_file = tmp_path / f"page{number}.txt"
        screen_file.write_text(screen, encoding="utf-8")
        pane = new_pane(session, standins.screen_command("codex", screen_file))
        # A title set by what runs in the pane (here: a key a tool put in the title).
        title = secrets[number].line.split("\n")[0][:200]
        server.cmd("select-pane", "-t", pane, "-T", title)
        panes.append(pane)
    for pane in panes:
        wait_drawn(server, pane, "5h limit")

    paths = Paths.from_env()
    archive_root = tmp_path / "archive"
    config = dataclasses.replace(
        SinksConfig.defaults(paths),
        archive=ArchiveConfig(root=archive_root, fsync="always"),
        feature_log=tmp_path / "feature_log.md",
    )
    runners = [
        SinkRunner(build_sink(name, paths, config), endpoints, paths=paths, health_interval=0.5)
        for name in ("archive", "alias")
    ]
    for runner in runners:
        runner.start()
    scraper_config = ScraperConfig(
        servers=(ServerSpec(socket_name=server.socket_name),),
        intervals={"codex": 3600.0, "claude": 3600.0, "claude-monitor": 3600.0},
        sweep_interval=3600.0,
    )
    try:
        with Publisher(endpoints, name="scraper") as publisher:
            assert publisher.wait_ready(timeout=5)
            scraper = Scraper(scraper_config, publisher, file_triggers=False,
                              output_triggers=False)
            scraper.start()
            try:
                wait_for(
                    lambda: {b["pane"]["pane_id"] for b in collector.bodies("raw")} >= set(panes),
                    timeout=30, message="a raw frame of every pane",
                )
                wait_for(
                    lambda: len(list(archive_root.rglob("*.rec*"))) >= len(panes),
                    timeout=30, message="every pane archived",
                )
                wait_for((config.alias_dir / "state.json").exists, timeout=30,
                         message="alias cache written")
                stats = scraper.pipeline.stats
            finally:
                scraper.stop()
    finally:
        for runner in runners:
            runner.stop()

    places = {
        "bus": "\n".join(dumps(body).decode() for body in collector.bodies()),
        "archive": read_everything(archive_root),
        "alias cache": read_everything(config.alias_dir),
    }
    assert "[REDACTED:" in places["bus"]
    assert "[REDACTED:" in places["archive"]
    assert "5h limit" in places["archive"]  # the card itself went through
    missed = {
        (secret.kind, where): leaks(secret.secret, text)[:2]
        for secret in secrets
        for where, text in places.items()
        if leaks(secret.secret, text)
    }
    assert not missed
    assert stats.secrets_masked >= len(secrets)
    titles = [b["pane"]["title"] for b in collector.bodies("raw") if b["pane"]["pane_id"] in panes]
    assert titles
    assert all("[REDACTED:" in title for title in titles)
