"""The compiled loops of ``lines.LineWriter`` (numba, cached on disk), imported on first use only.

Cells are read where their Arrow buffers lie (``addresses``; the caller keeps the arrays alive)
and copied eight bytes at a time; a text cell's quotes (and backslashes, for JSON) are found
eight bytes at a time as well (a word holds one when a byte of it XOR the quote is zero), so
the runs between them are copied whole. Every store stays inside the line being written: a
word written past the cell's end is overwritten by what follows it in the line.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import carray, njit, types
from numba.extending import intrinsic

__all__ = ["fill", "measure", "negative_zeros"]

_ONES = np.uint64(0x0101010101010101)
_HIGHS = np.uint64(0x8080808080808080)
_QUOTES = np.uint64(0x2222222222222222)
_BACKSLASHES = np.uint64(0x5C5C5C5C5C5C5C5C)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_SHORT = np.zeros(32, dtype=np.uint8)  # control character -> the letter of its two-character JSON escape
for _code, _letter in ((8, "b"), (9, "t"), (10, "n"), (12, "f"), (13, "r")):
    _SHORT[_code] = ord(_letter)


@intrinsic
def _load8(typingctx, address):  # type: ignore[no-untyped-def]
    """The uint64 at an address (any alignment)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        pointer = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        return builder.load(pointer, align=1)

    return types.uint64(types.int64), codegen


@intrinsic
def _store8(typingctx, address, value):  # type: ignore[no-untyped-def]
    """Store a uint64 at an address (any alignment)."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        pointer = builder.inttoptr(args[0], ir.IntType(64).as_pointer())
        builder.store(args[1], pointer, align=1)
        return context.get_dummy_value()

    return types.void(types.int64, types.uint64), codegen


@intrinsic
def _load1(typingctx, address):  # type: ignore[no-untyped-def]
    """The byte at an address."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        pointer = builder.inttoptr(args[0], ir.IntType(8).as_pointer())
        return builder.load(pointer)

    return types.uint8(types.int64), codegen


@intrinsic
def _store1(typingctx, address, value):  # type: ignore[no-untyped-def]
    """Store a byte at an address."""

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        pointer = builder.inttoptr(args[0], ir.IntType(8).as_pointer())
        builder.store(builder.trunc(args[1], ir.IntType(8)), pointer)
        return context.get_dummy_value()

    return types.void(types.int64, types.int64), codegen


@intrinsic
def _pointer(typingctx, address):  # type: ignore[no-untyped-def]
    """A uint8 pointer to an address (for ``carray``: loops over it vectorise)."""
    pointer = types.CPointer(types.uint8)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.inttoptr(args[0], context.get_value_type(pointer))

    return pointer(types.int64), codegen


@intrinsic
def _trailing_zeros(typingctx, value):  # type: ignore[no-untyped-def]
    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 0))

    return types.uint64(types.uint64), codegen


@njit(cache=True, nogil=True, inline="always")
def _copy(to, source, length):  # pragma: no cover - compiled
    """Copy ``length`` bytes from ``source`` to ``to`` (addresses); return the address after them."""
    if length >= 8:
        k = 0
        while k + 8 <= length:
            _store8(to + k, _load8(source + k))
            k += 8
        if k < length:
            _store8(to + length - 8, _load8(source + length - 8))
    else:
        for k in range(length):
            _store1(to + k, _load1(source + k))
    return to + length


@njit(cache=True, nogil=True, inline="always")
def _has_byte(word, pattern):  # pragma: no cover - compiled
    """Nonzero if a byte of ``word`` equals the byte repeated in ``pattern``; its lowest set bit marks the first."""
    x = word ^ pattern
    return (x - _ONES) & ~x & _HIGHS


@njit(cache=True, nogil=True, inline="always")
def _escaped(to, source, length, escape, backslashes):  # pragma: no cover - compiled
    """Copy the cell, each quote (and backslash, if ``backslashes``) preceded by ``escape``; the address after."""
    k = 0
    while k < length:
        if k + 8 <= length:
            word = _load8(source + k)
            hits = _has_byte(word, _QUOTES)
            if backslashes:
                hits |= _has_byte(word, _BACKSLASHES)
            _store8(to, word)
            if hits == 0:
                to += 8
                k += 8
                continue
            run = np.int64(_trailing_zeros(hits) >> np.uint64(3))
            to += run
            k += run
        else:
            v = _load1(source + k)
            if not (v == 0x22 or (backslashes and v == 0x5C)):
                _store1(to, v)
                to += 1
                k += 1
                continue
        _store1(to, escape)
        _store1(to + 1, _load1(source + k))
        to += 2
        k += 1
    return to


@njit(cache=True, nogil=True, inline="always")
def _odd_json(source, length):  # pragma: no cover - compiled
    """How many bytes JSON adds to a cell for its backslashes, control characters and U+2028 / U+2029."""
    extra = 0
    k = 0
    while k < length:
        b = _load1(source + k)
        if b == 0x5C:
            extra += 1
        elif b < 0x20:
            extra += 1 if _SHORT[b] != 0 else 5
        elif b == 0xE2 and k + 2 < length and _load1(source + k + 1) == 0x80 and _load1(source + k + 2) in (0xA8, 0xA9):
            extra += 3
            k += 2
        k += 1
    return extra


@njit(cache=True, nogil=True, inline="always")
def _json_odd(to, source, length):  # pragma: no cover - compiled
    """``json``'s ``encode_basestring`` of the cell (no quotes), U+2028 / U+2029 escaped too; the address after."""
    k = 0
    while k < length:
        v = _load1(source + k)
        if v == 0x22 or v == 0x5C:
            _store1(to, 0x5C)
            _store1(to + 1, v)
            to += 2
        elif v < 0x20:
            _store1(to, 0x5C)
            if _SHORT[v] != 0:
                _store1(to + 1, _SHORT[v])
                to += 2
            else:
                _store1(to + 1, 0x75)  # u00xx
                _store1(to + 2, 0x30)
                _store1(to + 3, 0x30)
                _store1(to + 4, _HEX[v >> 4])
                _store1(to + 5, _HEX[v & 15])
                to += 6
        elif v == 0xE2 and k + 2 < length and _load1(source + k + 1) == 0x80 and _load1(source + k + 2) in (0xA8, 0xA9):
            _store1(to, 0x5C)  # u2028 / u2029
            _store1(to + 1, 0x75)
            _store1(to + 2, 0x32)
            _store1(to + 3, 0x30)
            _store1(to + 4, 0x32)
            _store1(to + 5, 0x38 if _load1(source + k + 2) == 0xA8 else 0x39)
            to += 6
            k += 2
        else:
            _store1(to, v)
            to += 1
        k += 1
    return to


@njit(cache=True, nogil=True)
def measure(offsets, addresses, valid, kinds, csv_fixed, json_fixed, csv_len, json_len, flags):  # pragma: no cover
    """Each row's CSV and JSONL length (``*_fixed``: its separators and keys) and each text cell's flags (1: CSV
    quotes it; 2: JSON escapes quotes or backslashes in it; 4: it holds a control character or U+2028 / U+2029).
    Column j's cell i is ``offsets[j, i]..offsets[j, i + 1]`` of the bytes at ``addresses[j]``, missing where
    ``valid[j, i]`` is 0; ``kinds[j]``: 0 raw, 1 text, 2 timestamp, 3 JSON text (``lines``)."""
    ncols, n = valid.shape
    for i in range(n):
        c = csv_fixed
        js = json_fixed
        for j in range(ncols):
            if not valid[j, i]:
                js += 4  # null
                continue
            start = offsets[j, i]
            length = offsets[j, i + 1] - start
            if kinds[j] == 0:
                c += length
                js += length
                continue
            source = addresses[j] + start
            cell = carray(_pointer(source), length)
            quotes = 0
            breaks = 0
            backslashes = 0
            odd = 0
            for k in range(length):
                b = cell[k]
                quotes += np.int64(b == 0x22)
                breaks += np.int64((b == 0x2C) | (b == 0x0A) | (b == 0x0D))
                backslashes += np.int64(b == 0x5C)
                odd += np.int64((b < 0x20) | (b == 0xE2))
            extra = _odd_json(source, length) if odd else backslashes
            flag = 0
            if (kinds[j] == 1 or kinds[j] == 3) and quotes + breaks > 0:
                c += length + 2 + quotes
                flag = 1
            else:
                c += length
            if quotes + backslashes > 0:
                flag |= 2
            if odd:
                flag |= 4
            if kinds[j] == 3:
                js += length  # JSON text written as it is
            else:
                js += length + 2 + quotes + extra
            flags[j, i] = flag
        csv_len[i] = c
        json_len[i] = js


@njit(cache=True, nogil=True)
def fill(
    offsets, addresses, valid, kinds, flags, rows, csv_pos, json_pos, literals, csv_lit, json_lit, out
):  # pragma: no cover
    """Write row ``rows[r]`` at ``csv_pos[r]`` (CSV, if any) and ``json_pos[r]`` (JSONL, if any) of ``out``
    (cells and flags as ``measure`` has them); ``csv_lit`` / ``json_lit``: (start, end) in ``literals`` of what
    comes before each cell, then of the line end."""
    ncols = kinds.size
    do_csv = csv_pos.size > 0
    do_json = json_pos.size > 0
    base = out.ctypes.data
    texts = literals.ctypes.data
    for r in range(rows.size):
        i = rows[r]
        p = base + (csv_pos[r] if do_csv else 0)
        q = base + (json_pos[r] if do_json else 0)
        for j in range(ncols + 1):
            if do_csv:
                p = _copy(p, texts + csv_lit[j, 0], csv_lit[j, 1] - csv_lit[j, 0])
            if do_json:
                q = _copy(q, texts + json_lit[j, 0], json_lit[j, 1] - json_lit[j, 0])
            if j == ncols:
                break
            if not valid[j, i]:
                if do_json:
                    _store1(q, 0x6E)  # null
                    _store1(q + 1, 0x75)
                    _store1(q + 2, 0x6C)
                    _store1(q + 3, 0x6C)
                    q += 4
                continue
            start = offsets[j, i]
            length = offsets[j, i + 1] - start
            source = addresses[j] + start
            kind = kinds[j]
            flag = flags[j, i] if kind != 0 else 0
            if do_csv:
                if flag & 1:
                    _store1(p, 0x22)
                    p = _escaped(p + 1, source, length, 0x22, False)
                    _store1(p, 0x22)
                    p += 1
                else:
                    p = _copy(p, source, length)
            if do_json:
                if kind == 3:
                    q = _copy(q, source, length)
                    continue
                if kind != 0:
                    _store1(q, 0x22)
                    q += 1
                if flag & 4:
                    q = _json_odd(q, source, length)
                elif flag & 2:
                    q = _escaped(q, source, length, 0x5C, True)
                else:
                    q = _copy(q, source, length)
                if kind != 0:
                    _store1(q, 0x22)
                    q += 1


_MINUSES = np.uint64(0x2D2D2D2D2D2D2D2D)


@njit(cache=True, nogil=True, inline="always")
def _ends_number(data, k, end):  # pragma: no cover - compiled
    """Whether ``data[k]`` ends a number: the text's end, or not one of ``0-9 . e E``."""
    if k >= end:
        return True
    b = data[k]
    return not ((b >= 0x30 and b <= 0x39) or b == 0x2E or b == 0x65 or b == 0x45)


@njit(cache=True, nogil=True, inline="always")
def _after_exponent(data, k, end):  # pragma: no cover - compiled
    """Where ``[eE][+-]?[0-9]+`` from ``k`` ends (its longest match), or -1 if there is none."""
    if k >= end or (data[k] != 0x65 and data[k] != 0x45):
        return -1
    k += 1
    if k < end and (data[k] == 0x2B or data[k] == 0x2D):
        k += 1
    first = k
    while k < end and data[k] >= 0x30 and data[k] <= 0x39:
        k += 1
    return k if k > first else -1


@njit(cache=True, nogil=True)
def negative_zeros(bounds, data, flags):  # pragma: no cover - compiled
    """Flag text i (``data[bounds[i]:bounds[i + 1]]``) if ``-0(\\.0+)?([eE][+-]?[0-9]+)?([^0-9.eE]|$)`` matches
    somewhere in it (``frame._MAYBE_NEGATIVE_ZERO``); a word at a time to the next ``-``."""
    base = data.ctypes.data
    for i in range(bounds.size - 1):
        start = bounds[i]
        end = bounds[i + 1]
        k = start
        while k + 1 < end:
            if k + 8 <= end and _has_byte(_load8(base + k), _MINUSES) == 0:
                k += 8
                continue
            if data[k] == 0x2D and data[k + 1] == 0x30:
                q = k + 2
                if _ends_number(data, q, end):
                    flags[i] = 1
                    break
                after = _after_exponent(data, q, end)
                if after >= 0 and _ends_number(data, after, end):
                    flags[i] = 1
                    break
                if q + 1 < end and data[q] == 0x2E and data[q + 1] == 0x30:
                    r = q + 1
                    while r < end and data[r] == 0x30:
                        r += 1
                    after = _after_exponent(data, r, end)
                    if _ends_number(data, r, end) or (after >= 0 and _ends_number(data, after, end)):
                        flags[i] = 1
                        break
            k += 1
