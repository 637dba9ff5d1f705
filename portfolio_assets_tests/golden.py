"""Golden outputs: what an implementation since replaced returned, pinned as digests in ``fixtures/<name>.json``.

The equivalence tests of the performance rewrites compared each new function with a verbatim copy of the
one it replaced. The copies are gone; their outputs, recorded case by case (same inputs, same keys), are
in the fixtures, and the new code must reproduce them exactly. Frames and series are pinned by
:func:`digest` (values, index, column names, dtypes and attrs), JSON metadata by :func:`json_digest`,
texts (summaries, error messages) as they are.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

FIXTURES = Path(__file__).parent / "fixtures"


def digest(data: pd.DataFrame | pd.Series) -> str:
    """sha256 of everything ``assert_frame_equal(check_exact=True)`` compares, and the attrs.

    Stricter only for signed zeros (hashed by their bits); the recorded outputs and the new ones were
    checked to agree on that too when the fixtures were written.
    """
    frame = data.to_frame() if isinstance(data, pd.Series) else data
    shape = [
        type(data).__name__,
        [repr(name) for name in frame.columns],
        [str(dtype) for dtype in frame.dtypes],
        type(data.index).__name__,
        str(data.index.dtype),
        [repr(name) for name in data.index.names],
        repr(data.attrs),
    ]
    sha = hashlib.sha256(json.dumps(shape).encode())
    sha.update(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
    return sha.hexdigest()


def json_digest(value: object) -> str:
    """sha256 of JSON-able ``value`` (keys sorted: dicts compare regardless of order)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


class Golden:
    """The recorded values of one fixture file, by case key."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[str, object] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))

    def check(self, key: str, value: object) -> None:
        """``value`` must be what was recorded under ``key``."""
        assert key in self.values, f"{self.name}: no recorded value for case {key!r}"
        assert value == self.values[key], f"{self.name}: case {key!r} differs from the recorded output"
