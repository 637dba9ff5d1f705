"""Code versions of the assets: what the UI compares to show an asset stale after a code change.

An asset's version is a digest of the source of its module and of every module of this package it imports,
directly or through others (read from the files, never executed), but the modules that move values rather than
compute them (``MOVES_VALUES``: the engines, the store, the runners, settings and resources, whose every
variant is tested to give the same bytes). So a change to a feature kernel marks stale the assets whose
computation reaches it; a change to the Spark engine, a test or the README, none.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = "portfolio_assets"
MOVES_VALUES = frozenset(
    f"{PACKAGE}.{name}"
    for name in [
        "backfill",
        "bench",
        "bench_data",
        "bench_rows",
        "bench_talib",
        "codeversion",
        "definitions",
        "demo",
        "direct",
        "engine",
        "errors",
        "fsutil",
        "instance_storage",
        "io_managers",
        "lru",
        "memprobe",
        "objectstore",
        "resources",
        "runner",
        "s3landing",
        "s3store",
        "schedules",
        "settings",
        "spark_urls",
        "storecommit",
        "storefiles",
        "submit",
    ]
)
"""Modules left out of the versions: where the work runs, how values are stored and moved, what is configured."""


ROOT = Path(__file__).resolve().parent


@cache
def _source(module: str) -> tuple[Path, bytes] | None:
    """The file and source of one of this package's modules (None: not a module of this package)."""
    if module != PACKAGE and not module.startswith(f"{PACKAGE}."):
        return None
    base = ROOT.joinpath(*module.split(".")[1:])
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path, path.read_bytes()
    return None


@cache
def _imports(module: str) -> frozenset[str]:
    """The modules of this package ``module``'s source imports (``from x import y`` counts ``x.y`` if a module)."""
    found = _source(module)
    if found is None:
        return frozenset()
    path, text = found
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(text, filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package upwards
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(name for name in names if _source(name) is not None)


def closure(module: str) -> list[str]:
    """``module`` and every module of this package it reaches through imports (not through ``MOVES_VALUES``),
    sorted."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen or name in MOVES_VALUES or _source(name) is None:
            continue
        seen.add(name)
        todo.extend(_imports(name) - seen)
    return sorted(seen)


def version_of(module: str) -> str:
    """The code version of the assets defined in ``module`` (16 hex digits)."""
    digest = hashlib.sha256()
    for name in closure(module):
        digest.update(name.encode() + b"\0" + hashlib.sha256(_source(name)[1]).digest())  # type: ignore[index]
    return digest.hexdigest()[:16]
