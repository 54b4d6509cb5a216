"""A device found on this machine (the record ``edgeprof devices`` lists)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class DetectedDevice:
    """One device found on this machine. ``id`` is what ``--device`` takes."""

    id: str  # cpu | cuda:0 | ...
    kind: str  # cpu | gpu | jetson
    name: str
    memory_bytes: int | None = None
    profile: str | None = None  # shipped profile name, when one matches
    compute_capability: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)



def slug(text: str) -> str:
    """A name as a lower-case, dash-separated token (``cpu-<model>`` row names)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"
