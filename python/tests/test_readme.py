"""The README's "Bulk analysis" section stays true: its Python examples run, and its DuckDB queries
give the same answers over the command line's Parquet file and its JSON Lines (and answers there
are, over the fixtures)."""

from __future__ import annotations

import contextlib
import io
import re

import duckdb
import pytest

import shakedown
from conftest import ROOT, captures, run_cli


def section() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("## Bulk analysis\n")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def blocks(language: str, under: str = "") -> list:
    """The code blocks of a language in the section (or in its subsection `under`)."""
    text = section()
    if under:
        start = text.index(f"### {under}\n")
        end = text.find("\n### ", start + 1)
        text = text[start : end if end >= 0 else len(text)]
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def test_the_install_command_is_given():
    assert any("pip install ./python" in b for b in blocks("sh"))


def test_the_python_examples_run():
    examples = blocks("python", under="Python")
    assert examples
    for code in examples:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
        printed = out.getvalue()
        assert "no_shared_cipher" in printed
        assert "connections" in printed
        assert "s3://bucket/seed.pcap ssl" in printed
        assert "no-such.pcap: cannot open" in printed


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """The fixtures' records as conns.parquet and conns.jsonl, the names the queries use."""
    folder = tmp_path_factory.mktemp("readme")
    paths = [p.relative_to(ROOT) for p, _ in captures()]
    done = run_cli("--json", "--parquet", folder / "conns.parquet", *paths)
    (folder / "conns.jsonl").write_bytes(done.stdout)
    return folder


@pytest.mark.parametrize("query", blocks("sql", under="Parquet and DuckDB"), ids=lambda q: q.splitlines()[0])
def test_the_duckdb_queries_agree_over_parquet_and_json_lines(query, outputs, monkeypatch):
    monkeypatch.chdir(outputs)
    assert "'conns.parquet'" in query
    from_parquet = duckdb.sql(query).fetchall()
    from_json = duckdb.sql(query.replace("'conns.parquet'", "'conns.jsonl'")).fetchall()
    assert from_parquet, "the fixtures should answer every query"
    assert from_parquet == from_json


def test_duckdb_reads_a_table_as_it_is():
    conns = shakedown.analyze_table([p for p, k in captures() if k is None])
    assert "FROM conns GROUP BY ALL" in section().replace("\n", " ")
    counts = duckdb.sql("SELECT cause.code, count(*) FROM conns GROUP BY ALL").fetchall()
    assert sum(n for _, n in counts) == conns.num_rows
