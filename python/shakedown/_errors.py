"""The exceptions and warnings of the package (raised by its native module too)."""

from __future__ import annotations


class CaptureError(Exception):
    """A capture could not be read: at all (missing, unreadable, not a capture, a damaged file
    header), or not to its end (a read error part-way, after its records were given).

    ``str(error)`` is ``"<path>: <reason>"``, as the command line reports it; ``path`` is the
    capture's name (as in the records' ``capture`` field) and ``reason`` the problem.
    """

    path: str
    reason: str

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Survives pickling (multiprocessing, Spark) with both fields.
        return (type(self), (self.path, self.reason))


class CaptureWarning(UserWarning):
    """The analysis went on, but something is worth knowing: a capture cut short (its records are
    all given; connections open at the cut are ``incomplete``), a key log line not understood, or,
    with ``analyze_table(..., errors="warn")``, a capture that could not be read."""
