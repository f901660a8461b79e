"""Free allocator pages go back to the system (panebus.memory), so a burst does not stay."""

from __future__ import annotations

import os
import subprocess
import sys

from panebus.memory import TRIM_INTERVAL, Trimmer, can_release, release_free_memory, resident_kb

BURST = """
import sys
from panebus.memory import release_free_memory, resident_kb
# A burst of 5 KB buffers, as ZeroMQ queues them for a sink that fell behind; one in fifty
# stays alive, so the freed pages lie between live ones and the heap cannot simply shrink.
burst = [bytes(5000) for _ in range(20_000)]
kept = burst[::50]
del burst
before = resident_kb()
released = release_free_memory()
after = resident_kb()
print(before, after, released, len(kept))
"""


def test_resident_size_of_a_live_and_a_gone_process() -> None:
    assert (resident_kb() or 0) > 0
    assert (resident_kb(os.getpid()) or 0) > 0
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    assert resident_kb(int(gone.stdout)) is None


def test_a_burst_of_freed_buffers_goes_back_to_the_system() -> None:
    if not can_release():  # pragma: no cover - the suite runs on glibc (Debian-like)
        assert release_free_memory() is False
        return
    done = subprocess.run([sys.executable, "-c", BURST], capture_output=True, text=True,
                          check=True)
    before, after, released, kept = done.stdout.split()
    assert released == "True"
    assert int(kept) == 400
    assert int(before) - int(after) > 50_000  # of the ~100 MB freed, most left the process


def test_the_trimmer_trims_after_growth_and_on_its_interval() -> None:
    trimmer = Trimmer()
    assert trimmer.check(now=0.0)  # the first look trims (nothing known yet)
    assert not trimmer.check(now=1.0)  # nothing grew, the interval has not passed
    burst = [b"x" * 5000 for _ in range(4000)]  # 20 MB resident, more than TRIM_GROWTH_KB
    assert trimmer.check(now=2.0)
    assert len(burst) == 4000
    assert not trimmer.check(now=3.0)
    assert trimmer.check(now=3.0 + TRIM_INTERVAL)
    assert trimmer.trims == 3
    assert trimmer.peak_kb >= (trimmer.last_kb or 0) > 0
