"""The type of a verdict record: the JSON record of docs/SCHEMA.md §2 as a dict."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, TypedDict

#: A nested object of a record (``frames``, ``tls``, ``cause``, ...): see docs/SCHEMA.md §2.
Object = Dict[str, Any]


class Record(TypedDict):
    """One connection's verdict, exactly as one line of ``shakedown --json`` (docs/SCHEMA.md §2).

    Every key is always present; unknown values are ``None``, empty lists ``[]``. Times are RFC
    3339 strings in UTC with six fractional digits (``"2026-11-25T09:53:31.319039Z"``).
    """

    schema: int
    capture: str
    conn: int
    client: str
    server: str
    client_inferred_from: str
    start: str
    end: str
    duration_ms: float
    frames: Object
    packets: Object
    bytes: Object
    protocol: str
    outcome: str
    stage: str
    first_fin: Optional[str]
    first_rst: Optional[str]
    closed_by: Optional[str]
    close_kind: Optional[str]
    alerts: List[Object]
    rdp: Optional[Object]
    tls: Optional[Object]
    cause: Object
    wireshark_filter: str
    tcp: Object
    unfinished: bool
