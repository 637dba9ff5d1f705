"""Straightforward float64 reference implementations (plain Python loops), independent of the code under test.

Each takes plain lists / arrays of one asset's series (oldest first) and returns a
list with ``nan`` where the value is not defined yet. Recursive smoothers are seeded
the way TA-Lib (and Wilder) seed them: with the simple mean of the first n values.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

NAN = float("nan")


def sma(x: Sequence[float], n: int) -> list[float]:
    return [math.fsum(x[t - n + 1 : t + 1]) / n if t >= n - 1 else NAN for t in range(len(x))]


def pstd(x: Sequence[float], n: int) -> list[float]:
    """Population standard deviation (ddof 0) of the last n values."""
    out = []
    for t in range(len(x)):
        if t < n - 1:
            out.append(NAN)
            continue
        window = x[t - n + 1 : t + 1]
        mean = math.fsum(window) / n
        out.append(math.sqrt(math.fsum((v - mean) ** 2 for v in window) / n))
    return out


def ema(x: Sequence[float], n: int, first: int = 0) -> list[float]:
    """EMA with alpha 2/(n+1) over x[first:], seeded at first+n-1 with the mean of its first n values."""
    alpha = 2.0 / (n + 1)
    out = [NAN] * len(x)
    if len(x) - first < n:
        return out
    value = sum(x[first : first + n]) / n
    out[first + n - 1] = value
    for t in range(first + n, len(x)):
        value = value + alpha * (x[t] - value)
        out[t] = value
    return out


def wilder_rsi(close: Sequence[float], n: int = 14) -> list[float]:
    out = [NAN] * len(close)
    changes = [close[t] - close[t - 1] for t in range(1, len(close))]
    gain = sum(max(c, 0.0) for c in changes[:n]) / n
    loss = sum(max(-c, 0.0) for c in changes[:n]) / n
    out[n] = 100.0 * gain / (gain + loss)
    for t in range(n + 1, len(close)):
        change = changes[t - 1]
        gain = (gain * (n - 1) + max(change, 0.0)) / n
        loss = (loss * (n - 1) + max(-change, 0.0)) / n
        out[t] = 100.0 * gain / (gain + loss)
    return out


def true_range(high: Sequence[float], low: Sequence[float], close: Sequence[float]) -> list[float]:
    return [NAN] + [
        max(high[t] - low[t], abs(high[t] - close[t - 1]), abs(low[t] - close[t - 1])) for t in range(1, len(close))
    ]


def wilder_atr(high: Sequence[float], low: Sequence[float], close: Sequence[float], n: int = 14) -> list[float]:
    tr = true_range(high, low, close)
    out = [NAN] * len(close)
    value = sum(tr[1 : n + 1]) / n
    out[n] = value
    for t in range(n + 1, len(close)):
        value = (value * (n - 1) + tr[t]) / n
        out[t] = value
    return out


def wilder_adx(high: Sequence[float], low: Sequence[float], close: Sequence[float], n: int = 14) -> list[float]:
    """Wilder's ADX: Wilder sums of +DM, −DM and TR, DX = 100·|+DI − −DI|/(+DI + −DI), ADX = Wilder mean of DX."""
    length = len(close)
    tr = true_range(high, low, close)
    plus_dm, minus_dm = [NAN], [NAN]
    for t in range(1, length):
        up, down = high[t] - high[t - 1], low[t - 1] - low[t]
        plus_dm.append(up if up > down and up > 0 else 0.0)
        minus_dm.append(down if down > up and down > 0 else 0.0)
    s_tr, s_plus, s_minus = sum(tr[1:n]), sum(plus_dm[1:n]), sum(minus_dm[1:n])
    dx = [NAN] * length
    for t in range(n, length):
        s_tr = s_tr - s_tr / n + tr[t]
        s_plus = s_plus - s_plus / n + plus_dm[t]
        s_minus = s_minus - s_minus / n + minus_dm[t]
        plus_di, minus_di = 100.0 * s_plus / s_tr, 100.0 * s_minus / s_tr
        total = plus_di + minus_di
        dx[t] = 100.0 * abs(plus_di - minus_di) / total if total else 0.0
    out = [NAN] * length
    value = sum(dx[n : 2 * n]) / n
    out[2 * n - 1] = value
    for t in range(2 * n, length):
        value = (value * (n - 1) + dx[t]) / n
        out[t] = value
    return out


def stoch_k(high: Sequence[float], low: Sequence[float], close: Sequence[float], n: int = 14) -> list[float]:
    out = []
    for t in range(len(close)):
        if t < n - 1:
            out.append(NAN)
            continue
        highest, lowest = max(high[t - n + 1 : t + 1]), min(low[t - n + 1 : t + 1])
        out.append(100.0 * (close[t] - lowest) / (highest - lowest) if highest > lowest else 0.0)
    return out


def williams_r(high: Sequence[float], low: Sequence[float], close: Sequence[float], n: int = 14) -> list[float]:
    out = []
    for t in range(len(close)):
        if t < n - 1:
            out.append(NAN)
            continue
        highest, lowest = max(high[t - n + 1 : t + 1]), min(low[t - n + 1 : t + 1])
        out.append(-100.0 * (highest - close[t]) / (highest - lowest) if highest > lowest else 0.0)
    return out


def cci(high: Sequence[float], low: Sequence[float], close: Sequence[float], n: int = 20) -> list[float]:
    typical = [(h + lo + c) / 3.0 for h, lo, c in zip(high, low, close, strict=True)]
    out = []
    for t in range(len(close)):
        if t < n - 1:
            out.append(NAN)
            continue
        window = typical[t - n + 1 : t + 1]
        mean = math.fsum(window) / n
        deviation = math.fsum(abs(v - mean) for v in window) / n
        out.append((typical[t] - mean) / (0.015 * deviation) if deviation else 0.0)
    return out


def mfi(
    high: Sequence[float], low: Sequence[float], close: Sequence[float], volume: Sequence[float], n: int = 14
) -> list[float]:
    typical = [(h + lo + c) / 3.0 for h, lo, c in zip(high, low, close, strict=True)]
    positive, negative = [0.0], [0.0]
    for t in range(1, len(close)):
        flow = typical[t] * volume[t]
        positive.append(flow if typical[t] > typical[t - 1] else 0.0)
        negative.append(flow if typical[t] < typical[t - 1] else 0.0)
    out = [NAN] * len(close)
    for t in range(n, len(close)):
        pos, neg = math.fsum(positive[t - n + 1 : t + 1]), math.fsum(negative[t - n + 1 : t + 1])
        out[t] = 100.0 * pos / (pos + neg)
    return out


def log_returns(close: Sequence[float]) -> list[float]:
    return [NAN] + [math.log(close[t] / close[t - 1]) for t in range(1, len(close))]


def volatility(close: Sequence[float], n: int, periods_per_year: int) -> list[float]:
    returns = log_returns(close)
    return [
        statistics.stdev(returns[t - n + 1 : t + 1]) * math.sqrt(periods_per_year) if t >= n else NAN
        for t in range(len(close))
    ]


def skew(values: Sequence[float]) -> float:
    """Bias-corrected sample skewness G1 = n·√(n−1)/(n−2) · m3 / m2^1.5 (m_k: sums of centred powers)."""
    n = len(values)
    mean = math.fsum(values) / n
    m2 = math.fsum((v - mean) ** 2 for v in values)
    m3 = math.fsum((v - mean) ** 3 for v in values)
    return n * math.sqrt(n - 1) / (n - 2) * m3 / m2**1.5


def rolling_skew(close: Sequence[float], n: int) -> list[float]:
    returns = log_returns(close)
    return [skew(returns[t - n + 1 : t + 1]) if t >= n else NAN for t in range(len(close))]


def zscore(values: Sequence[float], n: int) -> list[float]:
    out = []
    for t in range(len(values)):
        if t < n - 1:
            out.append(NAN)
            continue
        window = values[t - n + 1 : t + 1]
        out.append((values[t] - statistics.fmean(window)) / statistics.stdev(window))
    return out


def lagged(close: Sequence[float], k: int, fn) -> list[float]:
    return [fn(close[t], close[t - k]) if t >= k else NAN for t in range(len(close))]


def drawdown(close: Sequence[float], n: int) -> list[float]:
    return [close[t] / max(close[t - n + 1 : t + 1]) - 1.0 if t >= n - 1 else NAN for t in range(len(close))]
