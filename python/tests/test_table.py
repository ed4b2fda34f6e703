"""`shakedown.analyze_table`: the documented schema, and rows equal to the command line's
records."""

from __future__ import annotations

import re

import pyarrow as pa
import pytest

import shakedown
from conftest import ROOT, as_json, assert_same_records, captures, cli_records


def schema_listing(schema: pa.Schema) -> str:
    """One line per column and nested field (`tls.client_hello.sni: string`), as docs/SCHEMA.md
    §10 lists them; `?` marks a nullable one."""
    lines = []

    def walk(prefix: str, field: pa.Field) -> None:
        t = field.type
        name = prefix + field.name
        null = "?" if field.nullable else ""
        if pa.types.is_struct(t):
            lines.append(f"{name}{null}: struct")
            for child in t:
                walk(name + ".", child)
        elif pa.types.is_list(t) and pa.types.is_struct(t.value_type):
            lines.append(f"{name}{null}: list<struct>")
            for child in t.value_type:
                walk(name + "[].", child)
        elif pa.types.is_list(t):
            lines.append(f"{name}{null}: list<{t.value_type}>")
        else:
            lines.append(f"{name}{null}: {t}")

    for f in schema:
        walk("", f)
    return "\n".join(lines)


def test_the_schema_is_the_documented_one():
    schema = shakedown.schema()
    doc = (ROOT / "docs" / "SCHEMA.md").read_text()
    listing = re.search(r"<!-- arrow-schema -->\n```text\n(.*?)```", doc, re.S)
    assert listing, "docs/SCHEMA.md has no arrow-schema listing"
    assert schema_listing(schema) == listing.group(1).rstrip("\n")
    assert schema.metadata[b"shakedown.schema"] == str(shakedown.SCHEMA_VERSION).encode()


def test_every_fixture_s_rows_equal_the_cli_records():
    plain = [(p, k) for p, k in captures() if k is None]
    names = [str(p.relative_to(ROOT)) for p, _ in plain]
    table = shakedown.analyze_table(names, jobs=2)
    assert table.schema == shakedown.schema()
    expected = [r for p, _ in plain for r in cli_records(p, None)]
    assert_same_records(as_json(table.to_pylist()), expected, "all fixtures")
    for path, keys in captures():
        if keys is None:
            continue
        name = str(path.relative_to(ROOT))
        table = shakedown.analyze_table(name, keylog=keys)
        assert_same_records(as_json(table.to_pylist()), cli_records(path, keys), name)


def test_rows_equal_the_records_of_analyze():
    for path, keys in captures()[:20]:
        table = shakedown.analyze_table(path, keylog=keys)
        records = list(shakedown.analyze(path, keylog=keys))
        assert_same_records(as_json(table.to_pylist()), records, str(path))


def test_threads_do_not_change_the_table():
    names = [str(p) for p, k in captures() if k is None]
    one = shakedown.analyze_table(names, jobs=1)
    two = shakedown.analyze_table(names, jobs=2)
    assert one.equals(two) and one.num_rows > 60


def test_filters_apply_to_tables():
    names = [str(p) for p, k in captures() if k is None]
    failed = shakedown.analyze_table(names, failed=True)
    assert 0 < failed.num_rows < shakedown.analyze_table(names).num_rows
    assert set(failed.column("outcome").to_pylist()) == {"failed"}


def test_no_source_is_an_empty_table():
    table = shakedown.analyze_table([])
    assert table.num_rows == 0 and table.schema == shakedown.schema()


def test_names_must_match_the_sources():
    with pytest.raises(ValueError):
        shakedown.analyze_table([captures()[0][0]], names=["a", "b"])
    table = shakedown.analyze_table([captures()[0][0]], names=["mine"])
    assert set(table.column("capture").to_pylist()) <= {"mine"}
