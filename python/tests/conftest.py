"""What the tests share: the repository's fixtures, the command-line binary to compare with, and
ways to compare its JSON Lines with the package's records and tables."""

from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def captures() -> List[Tuple[Path, Optional[Path]]]:
    """Every capture under tests/fixtures, with its key log when it has one."""
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.suffix in (".pcap", ".pcapng"):
            keys = path.with_suffix(".keys")
            found.append((path, keys if keys.exists() else None))
    assert len(found) > 50, f"fixtures not found under {FIXTURES}"
    return found


def capture_id(c: Tuple[Path, Optional[Path]]) -> str:
    return str(c[0].relative_to(FIXTURES))


def shakedown_binary() -> Path:
    """The command line to compare with: $SHAKEDOWN_BIN, else the newest build in the target
    folder ($CARGO_TARGET_DIR or target/), else `shakedown` on PATH."""
    if os.environ.get("SHAKEDOWN_BIN"):
        return Path(os.environ["SHAKEDOWN_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    built = [p for p in (target / "release" / "shakedown", target / "debug" / "shakedown") if p.exists()]
    if built:
        return max(built, key=lambda p: p.stat().st_mtime)
    on_path = shutil.which("shakedown")
    if on_path:
        return Path(on_path)
    pytest.skip("no shakedown binary (cargo build -p shakedown-cli, or set SHAKEDOWN_BIN)")


def run_cli(*args: Any, check_status: bool = True) -> subprocess.CompletedProcess:
    """Runs the command line (from the repository root, so capture names match); exit statuses 0
    and 1 (failures found) are success."""
    done = subprocess.run(
        [str(shakedown_binary()), *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        timeout=300,
    )
    if check_status:
        assert done.returncode in (0, 1), done.stderr.decode()
    return done


def cli_records(path: Path, keys: Optional[Path], *extra: str) -> List[Dict[str, Any]]:
    """The command line's `--json` records of one capture (named as given: relative to the root)."""
    args = ["--json", "-j", "1", *extra]
    if keys:
        args += ["--keylog", keys.relative_to(ROOT)]
    done = run_cli(*args, path.relative_to(ROOT))
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def json_time(t: datetime.datetime) -> str:
    """A time as the JSON records write it: RFC 3339, UTC, six fractional digits, `Z`."""
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def as_json(value: Any) -> Any:
    """A row of a table (pyarrow's or DuckDB's Python values) in the JSON records' terms: times
    as their strings (docs/SCHEMA.md §10), everything else as it is."""
    if isinstance(value, datetime.datetime):
        return json_time(value)
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    return value


def first_difference(path: str, a: Any, b: Any) -> Optional[str]:
    """Where two records differ (field by field, order of keys included), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{path}: keys {list(a)} != {list(b)}"
        for k in a:
            d = first_difference(f"{path}.{k}", a[k], b[k])
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(f"{path}[{i}]", x, y)
            if d:
                return d
        return None
    if type(a) is not type(b) or a != b:
        return f"{path}: {a!r} != {b!r}"
    return None


def assert_same_records(got: List[Dict[str, Any]], expected: List[Dict[str, Any]], what: str) -> None:
    assert len(got) == len(expected), f"{what}: {len(got)} records, expected {len(expected)}"
    for g, e in zip(got, expected):
        d = first_difference("", g, e)
        assert d is None, f"{what} conn {e.get('conn')}: {d}"


@pytest.fixture(scope="session")
def fixture_captures() -> List[Tuple[Path, Optional[Path]]]:
    return captures()


@pytest.fixture(autouse=True)
def at_the_root(monkeypatch):
    """Tests run from the repository's root, as the command line they compare with does, so that
    captures can be named the same way (`tests/fixtures/...`)."""
    monkeypatch.chdir(ROOT)
