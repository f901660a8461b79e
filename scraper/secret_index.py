"""Run many secret rules over a screen in about the time of one: an index of required literals.

A combined alternation of fifty secret regexes costs Python's ``re`` every branch at every
position (measured: ~10 ms for a 2 KB screen). Almost every rule, though, needs some literal in
its match (``sk-ant-``, ``glpat-``, ``password``, ``://``). :func:`anchors` reads each rule's
parse tree for such a set of literals, one of which every match must contain; one combined regex
of all of them finds, in a single pass over the lower-cased screen, which lines can hold which
rule, and each rule then runs only on those lines. A rule without a usable literal (a Discord
token is ``[MNO]`` + 23 token characters + ``.``…) runs on the whole text.

Pure: no I/O.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import importlib
import re
import sys
import typing as t

_parser: t.Any = importlib.import_module(
    "re._parser" if sys.version_info >= (3, 11) else "sre_parse"
)
_const: t.Any = importlib.import_module(
    "re._constants" if sys.version_info >= (3, 11) else "sre_constants"
)

#: Shorter literals would flag nearly every line of a screen.
MIN_ANCHOR = 2
#: Literals this long are rare in prose; a rule with only shorter ones is gated by token runs
#: where it can be (``AC`` + 32 characters: a Twilio key).
STRONG_ANCHOR = 3
#: Runs of non-space shorter than this are ordinary words.
MIN_RUN = 12
#: A rule whose every match holds a run this long is skipped on lines without one.
MIN_NEEDED_RUN = 10
#: How far around a literal a rule is searched: a secret's context before it (``//host/``
#: before ``:_authToken=``) and the secret after it (a JWT, a key) are shorter than this. It
#: bounds the work a hostile 100,000-character line can cause.
BEFORE_ANCHOR = 1024
AFTER_ANCHOR = 8192
_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def _quality(found: frozenset[str]) -> tuple[int, int]:
    return min(map(len, found)), -len(found)


def _usable(sets: list[frozenset[str]]) -> list[frozenset[str]]:
    """Required sets of useful literals, best first (the shortest literal longest)."""
    usable = {found for found in sets if found and min(map(len, found)) >= MIN_ANCHOR}
    return sorted(usable, key=lambda found: (_quality(found), sorted(found)), reverse=True)


def _best(sets: list[frozenset[str]]) -> frozenset[str] | None:
    usable = _usable(sets)
    return usable[0] if usable else None


def _required(items: t.Iterable[tuple[t.Any, t.Any]]) -> list[frozenset[str]]:
    """Sets of literals of which every match of ``items`` contains at least one."""
    found: list[frozenset[str]] = []
    run: list[str] = []

    def flush() -> None:
        if len(run) >= MIN_ANCHOR:
            found.append(frozenset({"".join(run).lower()}))
        run.clear()

    for op, value in items:
        if op is _const.LITERAL:
            run.append(chr(value))
            continue
        flush()
        if op is _const.SUBPATTERN:
            found.extend(_required(value[-1]))
        elif op in (_const.MAX_REPEAT, _const.MIN_REPEAT) or op is getattr(
            _const, "POSSESSIVE_REPEAT", None
        ):
            if value[0] >= 1:
                found.extend(_required(value[2]))
        elif op is getattr(_const, "ATOMIC_GROUP", None):
            found.extend(_required(value))
        elif op is _const.BRANCH:
            options = [_best(_required(branch)) for branch in value[1]]
            if all(option is not None for option in options):
                found.append(frozenset().union(*t.cast("list[frozenset[str]]", options)))
    flush()
    return found


def _parse(pattern: str, flags: int) -> t.Any:
    try:
        return _parser.parse(pattern, flags)
    except Exception:  # an unparsable pattern fails later, at compile, with a clear message
        return None


_SPACES = " \t\n"


def _set_has_space(items: list[tuple[t.Any, t.Any]]) -> bool:
    if items and items[0][0] is _const.NEGATE:  # [^…] holds spaces unless it names \s
        return (_const.CATEGORY, _const.CATEGORY_SPACE) not in items
    hit = False
    for op, value in items:
        if op is _const.LITERAL:
            hit = hit or chr(value) in _SPACES
        elif op is _const.RANGE:
            hit = hit or any(value[0] <= ord(char) <= value[1] for char in _SPACES)
        elif op is _const.CATEGORY:
            hit = hit or value not in (_const.CATEGORY_DIGIT, _const.CATEGORY_WORD,
                                       _const.CATEGORY_NOT_SPACE)
    return hit


def _matches_space(items: t.Iterable[tuple[t.Any, t.Any]]) -> bool:
    """Whether a match of ``items`` can contain whitespace (unknown constructs: yes)."""
    for op, value in items:
        if op is _const.LITERAL:
            if chr(value) in _SPACES:
                return True
        elif op is _const.IN:
            if _set_has_space(value):
                return True
        elif op is _const.SUBPATTERN:
            if _matches_space(value[-1]):
                return True
        elif op in (_const.MAX_REPEAT, _const.MIN_REPEAT) or op is getattr(
            _const, "POSSESSIVE_REPEAT", None
        ):
            if _matches_space(value[2]):
                return True
        elif op is _const.BRANCH:
            if any(_matches_space(branch) for branch in value[1]):
                return True
        elif op not in (_const.AT, _const.ASSERT, _const.ASSERT_NOT):
            return True  # ANY, NOT_LITERAL, group references, …
    return False


def _width(items: list[tuple[t.Any, t.Any]], state: t.Any) -> int:
    return int(_parser.SubPattern(state, items).getwidth()[0])


def _required_run(items: t.Sequence[tuple[t.Any, t.Any]], state: t.Any) -> int:
    """The length of a run of non-space characters every match holds (e.g. a 44-character
    key after ``key = ``)."""
    best = current = 0
    for op, value in items:
        if op in (_const.AT, _const.ASSERT, _const.ASSERT_NOT):
            continue  # zero width
        if not _matches_space([(op, value)]):
            current += _width([(op, value)], state)
            best = max(best, current)
            continue
        current = 0
        if op is _const.SUBPATTERN:
            best = max(best, _required_run(value[-1], state))
        elif op in (_const.MAX_REPEAT, _const.MIN_REPEAT) and value[0] >= 1:
            best = max(best, _required_run(value[2], state))
        elif op is _const.BRANCH:
            best = max(best, min(_required_run(branch, state) for branch in value[1]))
    return best


@dataclasses.dataclass(frozen=True)
class Plan:
    """Where a rule can match, found cheaply.

    ``anchors``: sets of literals; a line must hold one literal of each. ``run``: every match is
    a run of at least this many non-space characters, and the rule runs on such runs (holding
    one of the first anchor set's literals, if any). ``needs_run``: every match holds such a
    run, so a line without one is skipped. No anchors and no run: the whole text.
    """

    anchors: tuple[frozenset[str], ...] = ()
    run: int = 0
    needs_run: int = 0


@functools.lru_cache(maxsize=1024)  # every Redactor of a process plans the same catalogue
def plan(pattern: str, flags: int = 0, given: frozenset[str] | None = None) -> Plan:
    """The cheapest sound way to run ``pattern`` over a screen (``given``: its literals, when
    the caller knows them better than the parse tree tells)."""
    tree = _parse(pattern, flags)
    if tree is None:
        return Plan(anchors=(given,) if given else ())
    found = _usable(_required(tree))
    sets = ((given, *found) if given else tuple(found))[:2]
    if len(sets) == 2 and _quality(sets[1])[0] < STRONG_ANCHOR:
        sets = sets[:1]  # a second, weak set would flag more lines than it rules out
    needs = _required_run(tree.data, tree.state)
    needs = needs if needs >= MIN_NEEDED_RUN else 0
    if sets and _quality(sets[0])[0] >= STRONG_ANCHOR:
        return Plan(anchors=sets, needs_run=needs)
    least = tree.getwidth()[0]
    if least >= MIN_RUN and not _matches_space(tree):
        return Plan(anchors=sets[:1], run=least)
    if needs:
        return Plan(needs_run=needs)  # a two-letter literal is everywhere; a long run is not
    return Plan(anchors=sets)


def ascii_lower(text: str) -> str:
    """``text`` lower-cased without changing its length (``str.lower`` can: ``İ``)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


def trie_pattern(literals: t.Iterable[str]) -> str:
    """One regex for many literals, shaped as a trie (``a(?:pi|ws)|s(?:k-|g\\.)``): ``re``
    then follows one branch per character instead of trying every literal at every position."""
    trie: dict[str, t.Any] = {}
    for literal in literals:
        node = trie
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: dict[str, t.Any]) -> str:
        options = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        optional = "" in node
        if not options:
            return ""
        body = options[0] if len(options) == 1 and not optional else f"(?:{'|'.join(options)})"
        if optional:
            body = f"(?:{'|'.join(options)})?" if len(options) > 1 else f"(?:{options[0]})?"
        return body

    return render(trie)


@dataclasses.dataclass(frozen=True)
class RuleSpan:
    """Where to run one rule: ``text[start:end]``, searched with its real surroundings."""

    rule: int
    start: int
    end: int


class AnchorIndex:
    """Which rules can match where in a text: one pass of one regex for the literals, and one
    for runs of printable ASCII (the characters of every token) if a rule needs them."""

    def __init__(self, plans: t.Sequence[Plan], spans_lines: t.Sequence[bool]) -> None:
        self._plans = tuple(plans)
        self._spans_lines = tuple(spans_lines)
        self.always = tuple(
            index
            for index, rule in enumerate(plans)
            if not rule.anchors and not rule.run and not rule.needs_run
        )
        #: Rules found only on lines holding a run of printable ASCII this long.
        self._by_line_run = [
            (rule.needs_run, index)
            for index, rule in enumerate(plans)
            if not rule.anchors and not rule.run and rule.needs_run
        ]
        self._by_run = sorted((rule.run, index) for index, rule in enumerate(plans) if rule.run)
        lengths = [rule.run or rule.needs_run for rule in plans if rule.run or rule.needs_run]
        self._runs = re.compile(rf"[!-~]{{{min(lengths)},}}") if lengths else None
        owners: dict[str, set[int]] = {}
        for index, rule in enumerate(plans):
            if not rule.run:
                for found in rule.anchors:
                    for literal in found:
                        owners.setdefault(literal, set()).add(index)
        literals = sorted(owners)
        # Where a literal is found, so is every shorter literal that is its prefix.
        self._implied = {
            literal: frozenset(other for other in literals if literal.startswith(other))
            for literal in literals
        }
        self._owners = {literal: frozenset(rules) for literal, rules in owners.items()}
        self._regex = re.compile(trie_pattern(literals)) if literals else None

    def rule_spans(
        self, text: str, regions: t.Sequence[tuple[int, int]] | None = None
    ) -> list[RuleSpan]:
        """Where to run which rule in ``text`` (or in its ``regions``): per line holding its
        literals, per run of printable ASCII long enough for it, or the whole region."""
        spans = regions if regions is not None else ((0, len(text)),)
        found: list[RuleSpan] = [
            RuleSpan(index, start, stop) for start, stop in spans for index in self.always
        ]
        if self._regex is None and self._runs is None:
            return found
        low = ascii_lower(text)
        lines = _Lines(text)
        for start, stop in spans:
            longest: dict[int, int] = {}  # line → its longest run
            if self._runs is not None:
                for run in self._runs.finditer(text, start, stop):
                    length = run.end() - run.start()
                    line = lines.of(run.start())
                    longest[line] = max(longest.get(line, 0), length)
                    found.extend(self._run_spans(low, run.start(), run.end()))
            for line, length in longest.items():
                span = lines.span(line)
                found.extend(
                    RuleSpan(index, max(start, span[0]), min(stop, span[1]))
                    for least, index in self._by_line_run
                    if least <= length
                )
            if self._regex is not None:
                found.extend(self._anchored(text, low, lines, longest, (start, stop)))
        return found

    def _run_spans(self, low: str, start: int, end: int) -> t.Iterator[RuleSpan]:
        """The rules gated by runs that a run of printable ASCII ``[start, end)`` can hold."""
        piece = ""
        for least, index in self._by_run:  # shortest first
            if least > end - start:
                break
            needs = self._plans[index].anchors
            if needs:
                piece = piece or low[start:end]
                if not _holds(piece, needs):
                    continue
            yield RuleSpan(index, start, end)

    def _anchored(
        self, text: str, low: str, lines: _Lines, longest: dict[int, int], region: tuple[int, int]
    ) -> t.Iterator[RuleSpan]:
        assert self._regex is not None
        begin, stop = region
        by_line: dict[int, list[tuple[int, frozenset[str]]]] = {}
        search = self._regex.search
        match = search(low, begin, stop)
        while match is not None:
            by_line.setdefault(lines.of(match.start()), []).append(
                (match.start(), self._implied[match.group()])
            )
            # Search again from the next character: a literal may start inside this one.
            match = search(low, match.start() + 1, stop)
        for line, found in by_line.items():
            line_start, line_end = lines.span(line)
            literals = frozenset().union(*(implied for _, implied in found))
            candidates = set().union(*(self._owners.get(literal, ()) for literal in literals))
            for rule in sorted(candidates):
                wanted = self._plans[rule]
                if wanted.needs_run and longest.get(line, 0) < wanted.needs_run:
                    continue
                if not all(need & literals for need in wanted.anchors):
                    continue
                own = frozenset().union(*wanted.anchors)
                end = stop if self._spans_lines[rule] else min(line_end, stop)
                yield from _around(
                    [position for position, implied in found if implied & own],
                    rule, max(begin, line_start), end,
                )


def _around(positions: list[int], rule: int, low: int, high: int) -> t.Iterator[RuleSpan]:
    """Spans of ``text[low:high]`` around literals found at ``positions`` (in order), merged:
    a long hostile line is searched near its literals only, never end to end per literal."""
    current: list[int] = []
    for position in positions:
        start = max(low, position - BEFORE_ANCHOR)
        end = min(high, position + AFTER_ANCHOR)
        if current and start <= current[1]:
            current[1] = max(current[1], end)
            continue
        if current:
            yield RuleSpan(rule, current[0], current[1])
        current = [start, end]
    if current:
        yield RuleSpan(rule, current[0], current[1])


def _holds(piece: str, needs: tuple[frozenset[str], ...]) -> bool:
    return all(any(literal in piece for literal in need) for need in needs)


class _Lines:
    """Line numbers of offsets in a text, computed on first use."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] = []

    def _ensure(self) -> list[int]:
        if not self._starts:
            self._starts = [0, *(m.end() for m in re.finditer("\n", self._text))]
        return self._starts

    def of(self, offset: int) -> int:
        return bisect.bisect_right(self._ensure(), offset) - 1

    def span(self, line: int) -> tuple[int, int]:
        starts = self._ensure()
        end = starts[line + 1] - 1 if line + 1 < len(starts) else len(self._text)
        return starts[line], end
