"""The outage buffer on disk: order, acked offset across restarts, torn tail, bound, compaction."""

from __future__ import annotations

import typing as t

from bus.spool import COMPACT_AT, HEADER, Spool

if t.TYPE_CHECKING:
    from pathlib import Path


def _fill(spool: Spool, count: int, size: int = 10) -> None:
    for index in range(count):
        assert spool.append(f"parsed.t.{index}".encode(), b"x" * size)


def test_records_come_back_in_order_and_the_acked_offset_survives_a_restart(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path / "s")
    _fill(spool, 5)
    records = spool.read(0, 10)
    assert [topic for _end, topic, _body in records] == [f"parsed.t.{i}".encode()
                                                           for i in range(5)]
    spool.ack(records[2][0])
    spool.close()
    again = Spool(tmp_path / "s")
    assert [topic for _e, topic, _b in again.read(again.acked, 10)] == [b"parsed.t.3",
                                                                        b"parsed.t.4"]


def test_a_torn_last_record_is_cut_off(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s")
    _fill(spool, 2)
    spool.close()
    with (tmp_path / "s" / "spool.bin").open("ab") as file:
        file.write(HEADER.pack(5, 100) + b"parse")  # a crash in the middle of a write
    again = Spool(tmp_path / "s")
    assert len(again.read(0, 10)) == 2
    assert again.append(b"parsed.t.9", b"y")
    assert [topic for _e, topic, _b in again.read(0, 10)][-1] == b"parsed.t.9"


def test_a_full_spool_counts_what_it_drops(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=100)
    taken = [spool.append(f"parsed.t.{i}".encode(), b"x" * 10) for i in range(10)]
    assert taken.count(False) == spool.dropped > 0
    assert taken[: taken.index(False)] == [True] * taken.index(False)
    assert spool.pending_bytes <= 100
    spool.ack(spool.size)
    assert spool.append(b"parsed.t.new", b"z")


def test_acked_bytes_are_reclaimed_and_offsets_move_back(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s")
    body = b"b" * 1000
    count = COMPACT_AT // 1000 + 10
    _fill(spool, count, size=len(body))
    records = spool.read(0, count)
    shift = spool.ack(records[-3][0])
    assert shift == records[-3][0]
    assert spool.acked == 0
    left = spool.read(0, 10)
    assert [topic for _e, topic, _b in left] == [records[-2][1], records[-1][1]]
    spool.close()
    again = Spool(tmp_path / "s")
    assert again.acked == 0
    assert len(again.read(0, 10)) == 2
