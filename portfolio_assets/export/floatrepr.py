"""``repr`` of a float column, compiled (numba, cached on disk): Ryu's shortest digits, Python's layout.

Python's ``repr(x)`` is the shortest decimal that reads back as ``x`` (of those, the nearest to
``x``; a tie goes to the even digit), laid out positionally when the decimal point falls within
``-4 < decpt <= 16`` (``0.0001``, ``1e+16``) and with ``.0`` added to an integral value. Ryu
(Ulf Adams, PLDI 2018, the reference ``d2s.c``) finds those digits with 128-bit products by
tabled powers of five; ``numtext.repr_texts`` gets them from an Arrow cast (about three times
slower) and ``test_export_floatrepr`` checks the two against ``repr`` value by value.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["repr_into"]

_POW5_BITS = 125  # Ryu's DOUBLE_POW5_BITCOUNT and DOUBLE_POW5_INV_BITCOUNT


def _split(value: int) -> tuple[int, int]:
    return value & (2**64 - 1), value >> 64


def _top_bits(value: int) -> int:
    """``value`` shifted to hold exactly ``_POW5_BITS`` bits (its leading ones)."""
    shift = value.bit_length() - _POW5_BITS
    return value >> shift if shift >= 0 else value << -shift


_POW5 = np.array([_split(_top_bits(5**i)) for i in range(326)], dtype=np.uint64)  # Ryu's DOUBLE_POW5_SPLIT
_POW5_INV = np.array(  # Ryu's DOUBLE_POW5_INV_SPLIT
    [_split((1 << (5**i).bit_length() - 1 + _POW5_BITS) // 5**i + 1) for i in range(342)], dtype=np.uint64
)
_U = np.uint64
_PAIRS = np.frombuffer("".join(f"{i:02d}" for i in range(100)).encode(), dtype=np.uint8)


@intrinsic
def _mul_shift(typingctx, m, low, high, shift):  # type: ignore[no-untyped-def]
    """``(m * (high * 2**64 + low)) >> shift`` truncated to 64 bits (Ryu's ``mulShift64``: two 64x64->128-bit
    products; ``shift`` >= 64)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        wide = ir.IntType(128)
        m_, low_, high_, shift_ = (builder.zext(a, wide) for a in args)
        low_product = builder.lshr(builder.mul(m_, low_), ir.Constant(wide, 64))
        total = builder.add(low_product, builder.mul(m_, high_))
        return builder.trunc(builder.lshr(total, builder.sub(shift_, ir.Constant(wide, 64))), ir.IntType(64))

    return types.uint64(types.uint64, types.uint64, types.uint64, types.uint64), codegen


@njit(cache=True, nogil=True, inline="always")
def _pow5bits(e):  # pragma: no cover - compiled
    return ((e * 1217359) >> 19) + 1


@njit(cache=True, nogil=True, inline="always")
def _multiple_of_pow5(value, p):  # pragma: no cover - compiled
    count = 0
    while value > _U(0) and value % _U(5) == _U(0):
        value //= _U(5)
        count += 1
    return count >= p


@njit(cache=True, nogil=True, inline="always")
def _multiple_of_pow2(value, p):  # pragma: no cover - compiled
    return (value & ((_U(1) << _U(p)) - _U(1))) == _U(0)


@njit(cache=True, nogil=True, inline="always")
def _drop_digit(vr, vp, vm, last_removed, vr_trailing_zeros):  # pragma: no cover - compiled
    """One decimal digit off ``vr``, ``vp`` and ``vm`` (Ryu's loop when trailing zeros matter): the digit ``vr``
    loses is the new ``last_removed``, and ``vr`` keeps trailing zeros only while the digits dropped are 0."""
    vr_trailing_zeros &= last_removed == _U(0)
    return vr // _U(10), vp // _U(10), vm // _U(10), vr % _U(10), vr_trailing_zeros


@njit(cache=True, nogil=True, inline="always")
def _shortest(mantissa, exponent):  # pragma: no cover - compiled
    """Ryu's ``d2d``: the shortest decimal (digits, power of ten) of the positive double with these fields."""
    if exponent == 0:
        e2 = 1 - 1023 - 52 - 2
        m2 = mantissa
    else:
        e2 = exponent - 1023 - 52 - 2
        m2 = (_U(1) << _U(52)) | mantissa
    accept_bounds = (m2 & _U(1)) == _U(0)
    mv = _U(4) * m2
    mm_shift = _U(1) if (mantissa != _U(0) or exponent <= 1) else _U(0)
    vm_trailing_zeros = False
    vr_trailing_zeros = False
    if e2 >= 0:
        q = ((e2 * 78913) >> 18) - (1 if e2 > 3 else 0)
        e10 = q
        k = _POW5_BITS + _pow5bits(q) - 1
        i = -e2 + q + k
        low, high, shift = _POW5_INV[q, 0], _POW5_INV[q, 1], _U(i)
        vr = _mul_shift(_U(4) * m2, low, high, shift)
        vp = _mul_shift(_U(4) * m2 + _U(2), low, high, shift)
        vm = _mul_shift(_U(4) * m2 - _U(1) - mm_shift, low, high, shift)
        if q <= 21:
            if mv % _U(5) == _U(0):
                vr_trailing_zeros = _multiple_of_pow5(mv, q)
            elif accept_bounds:
                vm_trailing_zeros = _multiple_of_pow5(mv - _U(1) - mm_shift, q)
            elif _multiple_of_pow5(mv + _U(2), q):
                vp -= _U(1)
    else:
        q = ((-e2 * 732923) >> 20) - (1 if -e2 > 1 else 0)
        e10 = q + e2
        i = -e2 - q
        k = _pow5bits(i) - _POW5_BITS
        j = q - k
        low, high, shift = _POW5[i, 0], _POW5[i, 1], _U(j)
        vr = _mul_shift(_U(4) * m2, low, high, shift)
        vp = _mul_shift(_U(4) * m2 + _U(2), low, high, shift)
        vm = _mul_shift(_U(4) * m2 - _U(1) - mm_shift, low, high, shift)
        if q <= 1:
            vr_trailing_zeros = True
            if accept_bounds:
                vm_trailing_zeros = mm_shift == _U(1)
            else:
                vp -= _U(1)
        elif q < 63:
            vr_trailing_zeros = _multiple_of_pow2(mv, q)
    removed = 0
    last_removed = _U(0)
    if vm_trailing_zeros or vr_trailing_zeros:
        while vp // _U(10) > vm // _U(10):
            vm_trailing_zeros &= vm % _U(10) == _U(0)
            vr, vp, vm, last_removed, vr_trailing_zeros = _drop_digit(vr, vp, vm, last_removed, vr_trailing_zeros)
            removed += 1
        if vm_trailing_zeros:
            while vm % _U(10) == _U(0):
                vr, vp, vm, last_removed, vr_trailing_zeros = _drop_digit(vr, vp, vm, last_removed, vr_trailing_zeros)
                removed += 1
        if vr_trailing_zeros and last_removed == _U(5) and vr % _U(2) == _U(0):
            last_removed = _U(4)  # a tie: round to even
        up = (vr == vm and (not accept_bounds or not vm_trailing_zeros)) or last_removed >= _U(5)
    else:
        round_up = False
        if vp // _U(100) > vm // _U(100):
            round_up = vr % _U(100) >= _U(50)
            vr //= _U(100)
            vp //= _U(100)
            vm //= _U(100)
            removed += 2
        while vp // _U(10) > vm // _U(10):
            round_up = vr % _U(10) >= _U(5)
            vr //= _U(10)
            vp //= _U(10)
            vm //= _U(10)
            removed += 1
        up = vr == vm or round_up
    return vr + (_U(1) if up else _U(0)), e10 + removed


@njit(cache=True, nogil=True, inline="always")
def _decimal_length(v):  # pragma: no cover - compiled
    """How many decimal digits ``v`` (< 10**17, Ryu's bound) has."""
    if v >= _U(10**16):
        return 17
    if v >= _U(10**8):
        n = 9
        bound = _U(10**9)
    else:
        n = 1
        bound = _U(10)
    while v >= bound:
        n += 1
        bound *= _U(10)
    return n


@njit(cache=True, nogil=True, inline="always")
def _write_digits(out, at, output, n):  # pragma: no cover - compiled
    """The ``n`` decimal digits of ``output`` into ``out[at:at + n]``, two at a time."""
    p = at + n
    while output >= _U(100):
        pair = (output % _U(100)) * _U(2)
        output //= _U(100)
        out[p - 2] = _PAIRS[pair]
        out[p - 1] = _PAIRS[pair + _U(1)]
        p -= 2
    if output >= _U(10):
        out[p - 2] = _PAIRS[output * _U(2)]
        out[p - 1] = _PAIRS[output * _U(2) + _U(1)]
    else:
        out[p - 1] = _U(0x30) + output


@njit(cache=True, nogil=True)
def repr_into(values, valid, data, offsets):  # pragma: no cover - compiled
    """Write ``repr(v)`` of each finite value into ``data`` (24 bytes a value at most), value i at
    ``offsets[i]..offsets[i + 1]``; ``valid[i]`` 0 (and nothing written) where it is NaN or ±inf."""
    bits = values.view(np.uint64)
    at = 0
    for i in range(values.size):
        offsets[i] = at
        b = bits[i]
        exponent = np.int64((b >> _U(52)) & _U(0x7FF))
        mantissa = b & _U(0xFFFFFFFFFFFFF)
        if exponent == 0x7FF:
            valid[i] = 0
            continue
        valid[i] = 1
        if b >> _U(63):
            data[at] = 0x2D  # -
            at += 1
        if exponent == 0 and mantissa == _U(0):
            data[at] = 0x30  # 0.0
            data[at + 1] = 0x2E
            data[at + 2] = 0x30
            at += 3
            continue
        output, e10 = _shortest(mantissa, exponent)
        n = _decimal_length(output)
        decpt = n + e10  # the value is 0.d1d2...dn * 10**decpt
        if -4 < decpt <= 0:  # 0.000ddd
            data[at] = 0x30
            data[at + 1] = 0x2E
            at += 2
            for _ in range(-decpt):
                data[at] = 0x30
                at += 1
            _write_digits(data, at, output, n)
            at += n
        elif n <= decpt <= 16:  # ddd000.0
            _write_digits(data, at, output, n)
            at += n
            for _ in range(decpt - n):
                data[at] = 0x30
                at += 1
            data[at] = 0x2E
            data[at + 1] = 0x30
            at += 2
        elif 0 < decpt < n:  # ddd.ddd: the digits one byte on, the integral ones moved back before the point
            _write_digits(data, at + 1, output, n)
            for k in range(decpt):
                data[at + k] = data[at + k + 1]
            data[at + decpt] = 0x2E
            at += n + 1
        else:  # d.ddde+XX
            _write_digits(data, at + 1, output, n)
            data[at] = data[at + 1]
            if n > 1:
                data[at + 1] = 0x2E
                at += n + 1
            else:
                at += 1
            e = decpt - 1
            data[at] = 0x65  # e
            data[at + 1] = 0x2D if e < 0 else 0x2B
            at += 2
            e = -e if e < 0 else e
            if e >= 100:
                data[at] = 0x30 + e // 100
                at += 1
            data[at] = 0x30 + (e // 10) % 10
            data[at + 1] = 0x30 + e % 10
            at += 2
    offsets[values.size] = at
