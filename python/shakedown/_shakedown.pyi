"""Stubs of the native module (crates/shakedown-py); use the functions of ``shakedown``."""

from typing import Any, Iterator, List, Optional

from ._records import Record

SCHEMA_VERSION: int
DEFAULT_TLS_PORTS: List[int]
CAUSE_CODES: List[str]
VERSION: str

class Options:
    """Checked analysis options (made by ``shakedown._options``)."""

    def __init__(
        self,
        *,
        failed: bool,
        conn: List[int],
        cause: List[str],
        host: List[str],
        port: List[int],
        max_connections: Optional[int],
        idle_timeout: Optional[int],
        max_stream_buffer: Optional[int],
        max_total_buffer: Optional[int],
        max_pending_verdicts: Optional[int],
        tls_ports: Optional[List[int]],
        keylog: List[str],
    ) -> None: ...

class Analysis(Iterator[Record]):
    """The records of one capture, as they are found."""

    def __init__(self, source: Any, name: str, options: Options, jobs: int) -> None: ...
    def __iter__(self) -> "Analysis": ...
    def __next__(self) -> Record: ...
    @property
    def name(self) -> str:
        """The capture's name, as in the records' ``capture`` field."""
    @property
    def summary(self) -> Optional[dict]:
        """After the last record: the capture's summary record (docs/SCHEMA.md §5)."""

def schema() -> Any:
    """The Arrow schema of the records (``pyarrow.Schema``)."""

def analyze_table(
    sources: List[Any], names: List[str], options: Options, jobs: int, raise_errors: bool
) -> Any:
    """The records of ``sources`` as one ``pyarrow.Table``."""
