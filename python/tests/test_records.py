"""`shakedown.analyze` gives exactly the command line's JSON records."""

from __future__ import annotations

import pytest

import shakedown
from conftest import FIXTURES, ROOT, assert_same_records, capture_id, captures, cli_records


@pytest.mark.parametrize("capture", captures(), ids=capture_id)
def test_records_equal_the_cli_json(capture):
    path, keys = capture
    name = str(path.relative_to(ROOT))
    got = list(shakedown.analyze(name, keylog=keys, jobs=1))
    assert_same_records(got, cli_records(path, keys), name)


def test_every_fixture_gives_records():
    # The comparison above must compare something: most fixtures have connections.
    counts = [len(list(shakedown.analyze(p))) for p, _ in captures()]
    assert sum(counts) > 80 and sum(1 for c in counts if c) > 50


def test_records_match_the_typed_dict():
    record = next(iter(shakedown.analyze(FIXTURES / "tls" / "no-shared-cipher.pcap")))
    assert list(record) == list(shakedown.Record.__annotations__)
    assert record["schema"] == shakedown.SCHEMA_VERSION


@pytest.mark.parametrize(
    "options, flags",
    [
        ({"failed": True}, ["--failed"]),
        ({"cause": ["no_shared_cipher", "client_closed"]}, ["--cause", "no_shared_cipher", "--cause", "client_closed"]),
        ({"port": [4433]}, ["--port", "4433"]),
        ({"host": ["127.0.0.0/8"], "failed": True}, ["--host", "127.0.0.0/8", "--failed"]),
        ({"conn": [0]}, ["--conn", "0"]),
        ({"tls_ports": [9999]}, ["--tls-ports", "9999"]),
        ({"max_connections": 1}, ["--max-connections", "1"]),
    ],
)
def test_options_mirror_the_cli_flags(options, flags):
    for path in [FIXTURES / "lower" / "many-connections.pcapng", FIXTURES / "tls" / "no-shared-cipher.pcap"]:
        name = str(path.relative_to(ROOT))
        got = list(shakedown.analyze(name, jobs=1, **options))
        assert_same_records(got, cli_records(path, None, *flags), f"{name} {flags}")


def test_summary_after_the_last_record():
    it = shakedown.analyze(FIXTURES / "tls" / "no-shared-cipher.pcap")
    assert it.summary is None
    records = list(it)
    assert it.summary["record"] == "summary"
    assert it.summary["connections"] == len(records)


def test_bad_options_are_value_errors():
    with pytest.raises(ValueError, match="unknown cause code"):
        shakedown.analyze(FIXTURES / "tls" / "no-shared-cipher.pcap", cause=["nope"])
    with pytest.raises(ValueError, match="not an IPv4 or IPv6 address"):
        shakedown.analyze(FIXTURES / "tls" / "no-shared-cipher.pcap", host=["example.com"])
    with pytest.raises(ValueError):
        shakedown.analyze(FIXTURES / "tls" / "no-shared-cipher.pcap", jobs=0)
    with pytest.raises(TypeError):
        shakedown.analyze(42)
