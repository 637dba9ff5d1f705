"""A staged file written around the page cache (``O_DIRECT``) holds exactly the bytes written, whatever their
sizes, and falls back to ordinary writes where the file system refuses direct ones."""

from __future__ import annotations

import errno
import hashlib
import os
import random

import numpy as np
import pytest

from portfolio_assets.export import sink as sink_module
from portfolio_assets.export.sink import LocalSink, StagedFile


def pieces(seed: int, buffer: int) -> list[bytes]:
    rnd = random.Random(seed)
    sizes = [0, 1, 4095, 4096, 4097, buffer - 1, buffer, buffer + 1, 3 * buffer + 17, rnd.randint(0, 5 * buffer)]
    rnd.shuffle(sizes)
    return [rnd.randbytes(size) for size in sizes[: rnd.randint(0, len(sizes))]]


@pytest.mark.parametrize("seed", range(8))
def test_the_file_holds_the_bytes_written(tmp_path, monkeypatch, seed: int) -> None:
    monkeypatch.setattr(sink_module, "_DIRECT_BUFFER", 3 * 4096)
    written = pieces(seed, 3 * 4096)
    staged = StagedFile(tmp_path / "f.csv")
    for piece in written:
        staged.write(np.frombuffer(piece, dtype=np.uint8) if len(piece) % 2 else piece)
    staged.close()
    expected = b"".join(written)
    assert (tmp_path / "f.csv").read_bytes() == expected
    assert staged.size == len(expected) and staged.sha256 == hashlib.sha256(expected).hexdigest()


def test_an_export_file_is_written_around_the_page_cache_where_it_can_be(tmp_path) -> None:
    sink = LocalSink(tmp_path / "out", marker="m")
    staged = sink.open("x.jsonl")
    direct = staged._buffer is not None
    staged.write(b"{}\n" * 5000)
    staged.close()
    sink.commit()
    assert (tmp_path / "out" / "x.jsonl").read_bytes() == b"{}\n" * 5000
    if not direct:
        pytest.skip("this file system has no O_DIRECT: the ordinary writes were tested")


def test_a_refused_direct_write_falls_back_to_an_ordinary_one(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(sink_module, "_DIRECT_BUFFER", 4096)
    staged = StagedFile(tmp_path / "f.parquet")
    if staged._buffer is None:
        staged.close()
        pytest.skip("this file system has no O_DIRECT")
    real, refused = staged._handle, []

    class Refusing:
        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

        def write(self, data: object) -> int:
            if sink_module._direct(real):
                refused.append(1)
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
            return real.write(data)

    staged._handle = Refusing()  # type: ignore[assignment]
    data = random.Random(1).randbytes(3 * 4096 + 5)
    staged.write(data[:10])
    staged.write(data[10:])
    staged.close()
    assert refused == [1]
    assert (tmp_path / "f.parquet").read_bytes() == data
