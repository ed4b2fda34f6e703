"""`shakedown --parquet`: the file read back with pyarrow and with DuckDB equals the command line's
JSON Lines, for every fixture."""

from __future__ import annotations

import json

import duckdb
import pyarrow.parquet as pq
import pytest

import shakedown
from conftest import ROOT, as_json, assert_same_records, captures, run_cli


def runs():
    """The command lines to compare: every plain fixture in one run, each one with keys alone."""
    plain = [p.relative_to(ROOT) for p, k in captures() if k is None]
    yield "plain", [], plain
    for path, keys in captures():
        if keys is not None:
            rel = path.relative_to(ROOT)
            yield str(rel), ["--keylog", keys.relative_to(ROOT)], [rel]


RUNS = list(runs())


@pytest.fixture(scope="module", params=RUNS, ids=[r[0] for r in RUNS])
def written(request, tmp_path_factory):
    """(JSON Lines records, Parquet path) of one command line."""
    _, flags, paths = request.param
    out = tmp_path_factory.mktemp("parquet") / "conns.parquet"
    done = run_cli("--json", "--parquet", out, *flags, *paths)
    records = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert records
    return records, out


def test_pyarrow_reads_the_json_lines_back(written):
    records, path = written
    table = pq.read_table(path)
    assert table.schema.equals(shakedown.schema(), check_metadata=False)
    assert_same_records(as_json(table.to_pylist()), records, "pyarrow")
    meta = pq.read_metadata(path).metadata
    assert meta[b"shakedown.schema"] == str(shakedown.SCHEMA_VERSION).encode()


def test_duckdb_reads_the_json_lines_back(written):
    records, path = written
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    cur = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
    columns = [d[0] for d in cur.description]
    rows = [dict(zip(columns, row)) for row in cur.fetchall()]
    assert_same_records(as_json(rows), records, "duckdb")


def test_parquet_alone_writes_no_report(tmp_path):
    out = tmp_path / "only.parquet"
    paths = [p.relative_to(ROOT) for p, k in captures() if k is None][:5]
    done = run_cli("--parquet", out, *paths)
    assert done.stdout == b""
    assert pq.read_metadata(out).num_rows == sum(
        len(run_cli("--json", p).stdout.splitlines()) for p in paths
    )


def test_threads_do_not_change_the_file(tmp_path):
    paths = [p.relative_to(ROOT) for p, k in captures() if k is None]
    one, four = tmp_path / "one.parquet", tmp_path / "four.parquet"
    run_cli("-j", "1", "--parquet", one, *paths)
    run_cli("-j", "4", "--parquet", four, *paths)
    assert pq.read_table(one).equals(pq.read_table(four))


def test_an_unwritable_file_is_an_error(tmp_path):
    done = run_cli("--parquet", tmp_path / "no" / "such" / "dir.parquet", captures()[0][0], check_status=False)
    assert done.returncode == 2
    assert b"cannot create" in done.stderr
