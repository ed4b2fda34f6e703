"""Why each TLS handshake in a packet capture died, from Python.

``analyze(source)`` gives each TCP connection's verdict as a dict: the record ``shakedown --json``
writes (docs/SCHEMA.md §2 in the repository), field by field. ``analyze_table(sources)`` gives the
records of many captures as one ``pyarrow.Table`` whose columns are those fields (docs/SCHEMA.md
§10, the schema of ``shakedown --parquet`` too), made in Rust and handed over through the Arrow C
data interface.

A source is a path (``str`` or ``os.PathLike``), the bytes of a capture, or a binary file object
(anything with ``read(n)``); pcap and pcapng, plain or gzip- or zstd-compressed. The analysis runs
with the GIL released, so threads analysing different captures run in parallel.

The options are the command line's: the filters ``failed``, ``conn``, ``cause``, ``host`` and
``port`` (AND across kinds, OR within one), the caps and ``tls_ports``, and ``keylog`` (NSS key log
files to read TLS's encrypted handshakes and alerts with). A capture that cannot be read raises
``CaptureError`` naming it; one cut short still gives its records, with a ``CaptureWarning``.
"""

from __future__ import annotations

import os
from typing import Any, BinaryIO, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from . import _shakedown
from ._errors import CaptureError, CaptureWarning
from ._records import Record

__all__ = [
    "CAUSE_CODES",
    "DEFAULT_TLS_PORTS",
    "SCHEMA_VERSION",
    "Analysis",
    "CaptureError",
    "CaptureWarning",
    "Record",
    "Source",
    "analyze",
    "analyze_table",
    "schema",
]

__version__: str = _shakedown.VERSION

#: The version of the records' layout: their ``schema`` field, and the Parquet/Arrow schema's
#: ``shakedown.schema`` metadata.
SCHEMA_VERSION: int = _shakedown.SCHEMA_VERSION

#: Server ports where TLS is customary (the default of ``tls_ports``).
DEFAULT_TLS_PORTS: Tuple[int, ...] = tuple(_shakedown.DEFAULT_TLS_PORTS)

#: Every cause code (``record["cause"]["code"]``; the values ``cause=`` accepts).
CAUSE_CODES: Tuple[str, ...] = tuple(_shakedown.CAUSE_CODES)

#: The iterator ``analyze`` returns: records as dicts; after the last, ``summary`` holds the
#: capture's summary record (docs/SCHEMA.md §5).
Analysis = _shakedown.Analysis

#: What can be analysed: a path, a capture's bytes, or a binary file object.
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, BinaryIO]


def schema() -> Any:
    """The Arrow schema of the records (a ``pyarrow.Schema``, docs/SCHEMA.md §10)."""
    return _shakedown.schema()


def analyze(
    source: Source,
    *,
    name: Optional[str] = None,
    jobs: Optional[int] = None,
    failed: bool = False,
    conn: Iterable[int] = (),
    cause: Iterable[str] = (),
    host: Iterable[str] = (),
    port: Iterable[int] = (),
    max_connections: Optional[int] = None,
    idle_timeout: Optional[int] = None,
    max_stream_buffer: Optional[int] = None,
    max_total_buffer: Optional[int] = None,
    max_pending_verdicts: Optional[int] = None,
    tls_ports: Optional[Iterable[int]] = None,
    keylog: Union[None, str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]] = None,
) -> Iterator[Record]:
    """The verdict records of one capture, one dict per TCP connection, as they are found.

    Each dict is the record ``shakedown --json`` writes for the connection (the same fields, order
    and values). The capture is opened at once (``CaptureError`` if it cannot be: missing, not a
    capture, ...) and analysed on a thread of its own while the records are taken; breaking off
    the iteration stops it. A capture cut short gives all its records, then a ``CaptureWarning``;
    a read error part-way gives the records found, then raises ``CaptureError``.

    Args:
        source: a path, the capture's bytes, or a binary file object.
        name: the ``capture`` field of the records (default: the path as given, a file object's
            ``name``, or ``"<bytes>"``).
        jobs: threads for the analysis (default: one per core), as ``-j``.
        failed, conn, cause, host, port: only the connections that failed / with these numbers /
            cause codes / addresses or networks (``"10.1.0.0/16"``) at either end / ports at
            either end, as ``--failed``, ``--conn``, ``--cause``, ``--host``, ``--port``.
        max_connections, idle_timeout, max_stream_buffer, max_total_buffer, max_pending_verdicts:
            the caps, as the options of the same names (``idle_timeout`` in seconds, buffers in
            bytes); ``None`` keeps the command line's default.
        tls_ports: server ports where TLS is customary, replacing ``DEFAULT_TLS_PORTS`` (use
            ``[*shakedown.DEFAULT_TLS_PORTS, 8444]`` to add one), as ``--tls-ports``.
        keylog: NSS key log file(s) (SSLKEYLOGFILE), as ``--keylog``.

    Raises:
        CaptureError: the capture cannot be read (the message names it).
        ValueError: an unknown cause code or a malformed address.
        OSError: a key log cannot be read.
    """
    data, default_name = _source(source)
    options = _options(
        failed, conn, cause, host, port, max_connections, idle_timeout, max_stream_buffer,
        max_total_buffer, max_pending_verdicts, tls_ports, keylog,
    )
    return _shakedown.Analysis(data, name if name is not None else default_name, options, _jobs(jobs))


def analyze_table(
    sources: Union[Source, Iterable[Source]],
    *,
    names: Optional[Sequence[str]] = None,
    jobs: Optional[int] = None,
    errors: str = "raise",
    failed: bool = False,
    conn: Iterable[int] = (),
    cause: Iterable[str] = (),
    host: Iterable[str] = (),
    port: Iterable[int] = (),
    max_connections: Optional[int] = None,
    idle_timeout: Optional[int] = None,
    max_stream_buffer: Optional[int] = None,
    max_total_buffer: Optional[int] = None,
    max_pending_verdicts: Optional[int] = None,
    tls_ports: Optional[Iterable[int]] = None,
    keylog: Union[None, str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]] = None,
) -> Any:
    """The verdict records of one or many captures as one ``pyarrow.Table``.

    One row per connection, in the order of the sources and, within each, of ``conn``; the columns
    are the record's fields with nested structs and lists (``schema()``, docs/SCHEMA.md §10). The
    captures are analysed with the GIL released: one capture with all ``jobs`` threads, several
    side by side, one thread each. The options are those of ``analyze``.

    Args:
        sources: one source or an iterable of them.
        names: the ``capture`` value of each source (default as for ``analyze``).
        jobs: threads (default: one per core).
        errors: ``"raise"`` (default): a capture that cannot be read, or not to its end, raises
            ``CaptureError`` once all were analysed; ``"warn"``: it gives a ``CaptureWarning`` and
            the table holds the records of the others (and those it gave before a read error).

    Returns:
        pyarrow.Table: the records, ``schema()`` as its schema.
    """
    if errors not in ("raise", "warn"):
        raise ValueError(f'errors must be "raise" or "warn", not {errors!r}')
    items = [sources] if _is_source(sources) else list(sources)  # type: ignore[arg-type]
    converted = [_source(s) for s in items]
    if names is None:
        names = [n for _, n in converted]
    elif len(names) != len(converted):
        raise ValueError(f"{len(names)} names for {len(converted)} sources")
    options = _options(
        failed, conn, cause, host, port, max_connections, idle_timeout, max_stream_buffer,
        max_total_buffer, max_pending_verdicts, tls_ports, keylog,
    )
    return _shakedown.analyze_table(
        [d for d, _ in converted], list(names), options, _jobs(jobs), errors == "raise"
    )


def _is_source(s: Any) -> bool:
    return isinstance(s, (str, bytes, bytearray, memoryview, os.PathLike)) or hasattr(s, "read")


def _source(source: Any) -> Tuple[Any, str]:
    """The source as the native module takes it (str path, bytes or bytearray, or a file object)
    and its default name."""
    if isinstance(source, os.PathLike):
        source = os.fsdecode(os.fspath(source))
    if isinstance(source, str):
        return source, source
    if isinstance(source, (bytes, bytearray)):
        return source, "<bytes>"
    if isinstance(source, memoryview):
        return source.tobytes(), "<bytes>"
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        return source, name if isinstance(name, str) else "<file>"
    raise TypeError(
        "a capture source is a path, bytes or a binary file object, "
        f"not {type(source).__name__}"
    )


def _jobs(jobs: Optional[int]) -> int:
    if jobs is None:
        return os.cpu_count() or 1
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    return jobs


def _options(
    failed: bool,
    conn: Iterable[int],
    cause: Iterable[str],
    host: Iterable[str],
    port: Iterable[int],
    max_connections: Optional[int],
    idle_timeout: Optional[int],
    max_stream_buffer: Optional[int],
    max_total_buffer: Optional[int],
    max_pending_verdicts: Optional[int],
    tls_ports: Optional[Iterable[int]],
    keylog: Any,
) -> Any:
    if keylog is None:
        keylogs: List[str] = []
    elif isinstance(keylog, (str, os.PathLike)):
        keylogs = [os.fsdecode(os.fspath(keylog))]
    else:
        keylogs = [os.fsdecode(os.fspath(k)) for k in keylog]
    return _shakedown.Options(
        failed=bool(failed),
        conn=list(conn),
        cause=[cause] if isinstance(cause, str) else list(cause),
        host=[host] if isinstance(host, str) else list(host),
        port=list(port),
        max_connections=max_connections,
        idle_timeout=idle_timeout,
        max_stream_buffer=max_stream_buffer,
        max_total_buffer=max_total_buffer,
        max_pending_verdicts=max_pending_verdicts,
        tls_ports=None if tls_ports is None else list(tls_ports),
        keylog=keylogs,
    )
