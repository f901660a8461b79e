"""``panebus doctor`` names a package that shadows ``bus``, ``scraper`` or ``sinks``.

The three are top-level packages with generic names (docs/architecture.md "Package names"); a
package of the same name found first on ``sys.path`` must show up as a failed check, naming
the file that was imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t

from panebus.doctor import check_packages

if t.TYPE_CHECKING:
    from pathlib import Path

SHOW = (
    "import json\n"
    "from panebus.doctor import check_packages\n"
    "check = check_packages()\n"
    "print(json.dumps([check.status, check.detail]))\n"
)


def test_the_installed_packages_are_found_beside_panebus() -> None:
    check = check_packages()
    assert check.status == "ok", check.detail
    assert "bus, scraper, sinks beside panebus" in check.detail


def test_a_shadowing_package_is_named(tmp_path: Path) -> None:
    other = tmp_path / "sinks"
    other.mkdir()
    (other / "__init__.py").write_text('"""Someone else\'s sinks."""\n')
    result = subprocess.run(  # the current dir comes first on sys.path of `python -c`
        [sys.executable, "-c", SHOW], cwd=tmp_path, capture_output=True, text=True,
        timeout=60, check=True,
    )
    status, detail = json.loads(result.stdout)
    assert status == "fail"
    assert str(other / "__init__.py") in detail
    assert "bus is" not in detail and "scraper is" not in detail
