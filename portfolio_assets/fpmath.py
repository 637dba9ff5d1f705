"""Logarithms, exponentials and powers that give the same bits on every CPU: the C library's, element-wise.

numpy computes float64 ``log``, ``exp`` and ``power`` with AVX-512 code on CPUs that have it and with the C
library's functions elsewhere; the two differ in the last bit for some inputs (about one value in seven for
``log``), so the same build exported different bytes on two machines (found when this project's pinned
digests, recorded on a machine without AVX-512, failed on one with it). Every transcendental value that
reaches a stored or exported column goes through here: numba-compiled loops calling the C library's
``log`` / ``exp`` / ``pow``, bit for bit Python's ``math.log`` / ``math.exp`` / ``math.pow`` (without their
exceptions: log(0) is −inf, log(−1) NaN), whatever the CPU. ``sqrt``, + − × ÷ and sums are exact or
ordered and need nothing.

The functions are numpy ufuncs (arrays, scalars and pandas objects in, the same kind out), compiled on
first use and cached on disk.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np


def _log(x: float) -> float:  # pragma: no cover - compiled
    return math.log(x)


def _exp(x: float) -> float:  # pragma: no cover - compiled
    return math.exp(x)


def _pow(x: float, y: float) -> float:  # pragma: no cover - compiled
    return math.pow(x, y)


@functools.cache
def _ufunc(name: str) -> np.ufunc:
    from numba import vectorize

    function, signature = {
        "log": (_log, "float64(float64)"),
        "exp": (_exp, "float64(float64)"),
        "pow": (_pow, "float64(float64, float64)"),
    }[name]
    return vectorize([signature], cache=True)(function)


def log(x: Any) -> Any:
    """Natural logarithm, element-wise (−inf at 0, NaN below)."""
    return _ufunc("log")(x)


def exp(x: Any) -> Any:
    """e to the x, element-wise."""
    return _ufunc("exp")(x)


def power(x: Any, y: Any) -> Any:
    """x to the y, element-wise (the C library's ``pow``)."""
    return _ufunc("pow")(x, y)
