"""A store write's commit record and the output metadata keys it is built from."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

COMMITS = "_commits"
INFLIGHT = "_inflight"
BLOCKED_BY = "blocked_by"
"""Output metadata key: the blocking checks that failed on the output (comma-separated names)."""
EXCLUDED_ASSETS = "excluded_assets"
"""Output metadata key: universe assets left out of the output because a source failed (``{symbol: why}``)."""
VALIDATED = "validated"
"""Output metadata key: the fingerprint of the validation the output passed (``schemas.attestation``)."""


class BlockedPartitionError(RuntimeError):
    """A requested partition was stored by a write whose blocking checks failed."""


@dataclass(frozen=True)
class Commit:
    """The record of one committed write."""

    generation: str
    partitions: tuple[str, ...]
    run_id: str = ""
    blocked_by: tuple[str, ...] = ()
    committed_at: str = ""
    excluded: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Universe assets the write left out because a source failed, and why."""
    granularity: str = "daily"
    """The span of each partition key (``daily`` or ``monthly``); a record without one is from a daily store."""
    validated: str = ""
    """The fingerprint of the validation the written frame passed ("": none recorded, as in older records)."""
    digests: Mapping[str, str] = field(default_factory=dict, hash=False)
    """Partition key -> sha256 (hex) of its file as written; recorded with ``validated`` only."""

    def to_json(self) -> bytes:
        data: dict[str, object] = {
            "generation": self.generation,
            "run_id": self.run_id,
            "blocked_by": list(self.blocked_by),
            "excluded": dict(self.excluded),
            "committed_at": self.committed_at,
            "granularity": self.granularity,
        }
        if self.validated:
            data |= {"validated": self.validated, "digests": dict(self.digests)}
        return json.dumps({**data, "partitions": list(self.partitions)}, indent=0).encode()

    @classmethod
    def from_path(cls, path: Path) -> Commit:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                generation=str(data["generation"]),
                partitions=tuple(str(k) for k in data["partitions"]),
                run_id=str(data.get("run_id", "")),
                blocked_by=tuple(str(c) for c in data.get("blocked_by", [])),
                committed_at=str(data.get("committed_at", "")),
                excluded={str(k): str(v) for k, v in dict(data.get("excluded", {})).items()},
                granularity=str(data.get("granularity", "daily")),
                validated=str(data.get("validated", "")),
                digests={str(k): str(v) for k, v in dict(data.get("digests", {})).items()},
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: unreadable commit record ({exc}); the store needs repair") from exc
