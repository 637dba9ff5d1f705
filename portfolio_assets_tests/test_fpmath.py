"""The same bits on every CPU: ``fpmath`` is the C library's math, and no stored value uses numpy's SIMD math.

Found: the pinned digests of the export, recorded on a machine without AVX-512, failed on one with it.
numpy computes float64 log / exp / power with AVX-512 code where the CPU has it, and those differ from the C
library's in the last bit; the features, the targets and the test data all went through them.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from portfolio_assets import fpmath

PACKAGE = Path(fpmath.__file__).resolve().parent


def test_fpmath_is_the_c_librarys_math_bit_for_bit() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.lognormal(0.0, 4.0, 20_000), rng.uniform(0.5, 2.0, 20_000), [5e-324, 1e-300, 1e300]])
    np.testing.assert_array_equal(fpmath.log(x), [math.log(v) for v in x])
    y = rng.normal(0.0, 5.0, 20_000)
    np.testing.assert_array_equal(fpmath.exp(y), [math.exp(v) for v in y])
    np.testing.assert_array_equal(fpmath.power(x[:-1], 1.5), [math.pow(v, 1.5) for v in x[:-1]])
    np.testing.assert_array_equal(fpmath.power(10.0, np.arange(-8, 9)), [math.pow(10.0, k) for k in range(-8, 9)])
    with np.errstate(divide="ignore", invalid="ignore"):
        special = fpmath.log(np.array([0.0, -1.0, np.nan, np.inf]))
    assert special[0] == -np.inf and np.isnan(special[1]) and np.isnan(special[2]) and special[3] == np.inf
    series = fpmath.log(pd.Series([1.0, math.e], index=[3, 4]))
    assert isinstance(series, pd.Series) and list(series.index) == [3, 4] and series.iloc[1] == 1.0


CHILD = r"""
import hashlib, json, sys
import numpy as np, pandas as pd
from datetime import date
from pathlib import Path
from portfolio_assets.features import compute_cross_asset, compute_indicators, compute_targets
from portfolio_assets_tests.features import price_frames
from portfolio_assets_tests.features.test_cross_asset import benchmark
from portfolio_assets_tests.test_rows_golden import awkward_rows, export_digests, validation_digests
from portfolio_assets import fpmath

prices = pd.concat([price_frames.synthetic(f"S{i}", c, 400, seed=i) for i, c in enumerate(["crypto", "equity", "fx"])])
days = pd.date_range("2009-06-01", "2012-01-01", freq="B", tz="UTC")
walk = 100.0 * fpmath.exp(np.cumsum(np.random.default_rng(1).normal(0.0, 0.01, len(days))))
benchmarks = {"sp500": benchmark(days, walk), "dxy": benchmark(days, walk[::-1].copy())}
known = prices.assign(available_at=prices["timestamp"] + pd.Timedelta(hours=22))
frames = [compute_indicators(prices), compute_targets(prices), compute_cross_asset(known, benchmarks)]
out = {}
for i, frame in enumerate(frames):
    for column in frame.select_dtypes("float64").columns:
        out[f"{i}.{column}"] = hashlib.sha256(frame[column].to_numpy().tobytes()).hexdigest()
rows = awkward_rows()
out.update(export_digests(rows, Path(sys.argv[1])))
out.update(validation_digests(rows))
print(json.dumps(out))
"""


def _digests(tmp_path: Path, name: str, **env: str) -> dict[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / name)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=PACKAGE.parent,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_features_targets_and_export_do_not_depend_on_the_cpus_simd_level(tmp_path) -> None:
    from numpy._core import _multiarray_umath as umath

    present = [name for name in umath.__cpu_dispatch__ if umath.__cpu_features__.get(name)]
    if not present:
        pytest.skip("this CPU has none of numpy's dispatched SIMD levels: nothing to switch off")
    fast = _digests(tmp_path, "fast")
    baseline = _digests(tmp_path, "baseline", NPY_DISABLE_CPU_FEATURES=" ".join(present))
    assert len(fast) > 100
    assert fast == baseline, sorted(k for k in fast if fast[k] != baseline.get(k))[:10]


SIMD_MATH = re.compile(
    r"\bnp\.(log|exp|power|log1p|expm1|log2|exp2|cbrt|sin|cos|tan|arcsin|arccos|arctan|arctan2|sinh|cosh|tanh)\("
)
EXEMPT = {
    "fpmath.py": "the home of the C library's math",
    "bench_talib.py": "TA-Lib's side of the timing comparison, never stored",
}


def test_no_module_uses_numpys_simd_transcendentals() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in EXEMPT:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if SIMD_MATH.search(line.split("#")[0]):
                found.append(f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}")
    assert not found, "use portfolio_assets.fpmath (same bits on every CPU):\n" + "\n".join(found)
