"""Sources (paths, file objects, bytes, gzip) and what goes wrong with them: damaged captures,
missing files, files that are not captures, read errors."""

from __future__ import annotations

import gzip
import io
import pathlib
import warnings

import pytest

import shakedown
from conftest import FIXTURES, ROOT, assert_same_records, cli_records, run_cli

CAPTURE = FIXTURES / "lower" / "many-connections.pcapng"
NAME = str(CAPTURE.relative_to(ROOT))


@pytest.fixture(scope="module")
def expected():
    records = cli_records(CAPTURE, None)
    assert len(records) > 3
    return records


def renamed(records, name):
    return [{**r, "capture": name} for r in records]


def test_path_and_pathlib(expected):
    assert_same_records(list(shakedown.analyze(NAME)), expected, "str")
    got = list(shakedown.analyze(pathlib.Path(NAME)))
    assert_same_records(got, expected, "pathlib")


def test_file_object_is_named_by_its_name(expected):
    with open(NAME, "rb") as f:
        assert_same_records(list(shakedown.analyze(f)), expected, "file object")
    with open(NAME, "rb") as f:
        got = list(shakedown.analyze(io.BufferedReader(io.BytesIO(f.read()))))
    assert_same_records(got, renamed(expected, "<file>"), "unnamed file object")


def test_bytes_bytearray_memoryview(expected):
    data = CAPTURE.read_bytes()
    for source in (data, bytearray(data), memoryview(data)):
        got = list(shakedown.analyze(source))
        assert_same_records(got, renamed(expected, "<bytes>"), type(source).__name__)
    got = list(shakedown.analyze(data, name="mine.pcapng"))
    assert_same_records(got, renamed(expected, "mine.pcapng"), "named bytes")


def test_gzip_path_bytes_and_file_objects(expected, tmp_path):
    packed = gzip.compress(CAPTURE.read_bytes())
    path = tmp_path / "c.pcapng.gz"
    path.write_bytes(packed)
    want = renamed(expected, "c")
    assert_same_records(list(shakedown.analyze(path, name="c")), want, "gzip path")
    assert_same_records(list(shakedown.analyze(packed, name="c")), want, "gzip bytes")
    with open(path, "rb") as f:
        assert_same_records(list(shakedown.analyze(f, name="c")), want, "compressed file object")
    with gzip.open(path, "rb") as f:
        assert_same_records(list(shakedown.analyze(f, name="c")), want, "gzip.open")


def test_damaged_capture_gives_its_records_and_a_warning(tmp_path):
    # Cut a capture inside a packet: the records still come, as the command line gives them.
    data = (FIXTURES / "tls" / "no-shared-cipher.pcap").read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[: len(data) * 2 // 3])
    cli = run_cli("--json", cut)
    assert b"cut short" in cli.stderr
    expected = [__import__("json").loads(l) for l in cli.stdout.decode().splitlines()]
    assert expected, "the cut capture should still have a connection"
    with pytest.warns(shakedown.CaptureWarning, match=r"cut\.pcap: the capture is cut short"):
        got = list(shakedown.analyze(str(cut)))
    assert_same_records(got, expected, "cut capture")
    with pytest.warns(shakedown.CaptureWarning, match="cut short"):
        table = shakedown.analyze_table(str(cut))
    assert table.num_rows == len(expected)


def test_missing_file_is_a_capture_error_naming_it(tmp_path):
    missing = tmp_path / "nope.pcap"
    with pytest.raises(shakedown.CaptureError) as e:
        shakedown.analyze(missing)
    assert e.value.path == str(missing)
    assert str(e.value).startswith(f"{missing}: cannot open")
    with pytest.raises(shakedown.CaptureError, match="nope.pcap"):
        shakedown.analyze_table([CAPTURE, missing])


def test_not_a_capture(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello, these are notes\n")
    with pytest.raises(shakedown.CaptureError, match=r"notes\.txt: not a pcap or pcapng capture"):
        shakedown.analyze(text)
    with pytest.raises(shakedown.CaptureError, match="<bytes>: empty file"):
        shakedown.analyze(b"")
    with pytest.raises(shakedown.CaptureError, match="is a directory"):
        shakedown.analyze(tmp_path)


def test_errors_warn_keeps_the_other_captures(tmp_path):
    missing = tmp_path / "nope.pcap"
    with pytest.warns(shakedown.CaptureWarning, match="nope.pcap: cannot open"):
        table = shakedown.analyze_table([CAPTURE, missing, CAPTURE], errors="warn", jobs=2)
    assert table.num_rows == 2 * len(list(shakedown.analyze(CAPTURE)))
    with pytest.raises(ValueError):
        shakedown.analyze_table(CAPTURE, errors="ignore")


class FailingFile(io.RawIOBase):
    """Gives a capture's first bytes, then fails to read."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        self.data, self.at, self.fail_after = data, 0, fail_after
        self.name = "failing.pcapng"

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.at >= self.fail_after:
            raise OSError("the disk went away")
        n = min(n if n >= 0 else len(self.data), self.fail_after - self.at)
        chunk = self.data[self.at : self.at + n]
        self.at += len(chunk)
        return chunk


def test_read_error_part_way_raises_after_the_records():
    data = CAPTURE.read_bytes()
    records = []
    with pytest.raises(shakedown.CaptureError, match="failing.pcapng: read error: .*the disk went away"):
        for r in shakedown.analyze(FailingFile(data, len(data) // 2), jobs=1):
            records.append(r)
    # The connections seen before the error were judged and given.
    assert records and all(r["capture"] == "failing.pcapng" for r in records)


def test_text_mode_file_is_an_error(tmp_path):
    with open(CAPTURE, "r", encoding="latin-1") as f:
        with pytest.raises(shakedown.CaptureError, match="binary mode"):
            list(shakedown.analyze(f))


def test_stopping_early_is_fine():
    it = shakedown.analyze(CAPTURE)
    first = next(it)
    assert first["conn"] == 0
    del it  # the analysis thread stops at its next chunk
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(list(shakedown.analyze(CAPTURE))) > 3
