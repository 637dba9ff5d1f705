"""Where the heavy per-asset work runs: in this process (the embedded default) or on a Spark cluster.

The assets hand :meth:`EngineResource.by_asset` a pure function from ``features/`` (or a thin wrapper of
one) and the frames it reads. In-process, the function runs once on the whole frames, as it always did.
On Spark (``SPARK_MASTER_URL`` or ``SPARK_REMOTE`` set), the frames are split by asset, each asset's
pieces become one row of a Spark DataFrame, and ``groupBy(asset).applyInPandas`` runs the *same*
function on every asset in the executors' Python workers; what every asset shares (the benchmark series,
parameters) is a broadcast variable (on Spark Connect, which has none, part of the task). The pieces cross Spark
as pickled pandas frames (LZ4-compressed) in a binary column, so every dtype, time zone, nanosecond and NaN
arrives as it left: the Spark result is the in-process result, row for row (``portfolio_assets_tests/engine``).

The session is created when first used, reused for every call of the run, and stopped when the run
ends (an already running session, such as a test's, is reused and left running). Before it is created,
a ``spark://`` or ``sc://`` endpoint is dialled: a cluster that does not answer fails the run at once,
naming the URL (credentials hidden) and what to check.
"""

from __future__ import annotations

import pickle
import shutil
import socket
import struct
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from portfolio_assets.spark_urls import endpoints_of, parse_conf, redact_url

__all__ = ["EngineError", "EngineResource", "endpoints_of", "parse_conf", "redact_url"]

DEFAULT_APP_NAME = "portfolio_assets"
KEY_COLUMN = "asset_symbol"
DEFAULT_DRIVER_MEMORY = "4g"
"""A 100-asset x 10-year build in runs of ~250,000 rows needed more than Spark's 1g (BENCHMARKS.md)."""
CONNECT_TIMEOUT_SECONDS = 10.0
_PIECES = "group string, name string, payload binary"
_RESULTS = "group string, payload binary"


class EngineError(RuntimeError):
    """The Spark engine cannot start or reach its cluster; the message names the URL (redacted) and the cause."""


def check_reachable(url: str, *, setting: str, timeout: float = CONNECT_TIMEOUT_SECONDS) -> None:
    """Dial the endpoints of ``url`` (any of its standby masters will do); raise :class:`EngineError` naming the
    URL (redacted) when none answers."""
    endpoints = endpoints_of(url)
    failures = []
    for host, port in endpoints:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except OSError as exc:
            failures.append(f"{host}:{port} ({exc})")
    if failures:
        raise EngineError(
            f"Spark engine: {setting}={redact_url(url)} does not answer at {', '.join(failures)}. Check that the "
            f"{'Spark Connect server' if url.strip().startswith('sc://') else 'standalone master'} runs and that "
            f"this host can reach it (firewall, VPN), or unset {setting} to run in-process."
        )


def split_by(frame: pd.DataFrame, key: str) -> dict[str, pd.DataFrame]:
    """``frame``'s rows per value of ``key``, in the order the values first appear, each re-indexed from 0."""
    if key not in frame.columns:
        raise ValueError(f"engine: the frame has no {key!r} column to split by")
    codes, uniques = pd.factorize(frame[key], sort=False)
    if (codes < 0).any():  # a row of no asset would belong to no group, and vanish
        raise ValueError(f"engine: {int((codes < 0).sum())} row(s) have no {key!r}; every row must name its asset")
    positions = pd.Series(range(len(frame))).groupby(codes).indices
    return {
        str(value): frame.iloc[positions[code]].reset_index(drop=True)
        for code, value in enumerate(uniques)
        if code in positions
    }


def joined(parts: Sequence[pd.DataFrame], order: Sequence[str]) -> pd.DataFrame:
    """Per-asset frames as one, in ``order`` (a stable sort; none if ``order`` is empty)."""
    rows = [p for p in parts if len(p)] or list(parts[:1])  # empty ones add no rows
    out = pd.concat(rows, ignore_index=True) if len(rows) > 1 else rows[0].reset_index(drop=True)
    return out.sort_values(list(order), kind="stable", ignore_index=True) if order else out


def pack(obj: object) -> bytes:
    """``obj`` pickled and LZ4-compressed (its size first): what crosses Spark between driver and executors."""
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    return struct.pack("<Q", len(data)) + pa.compress(data, codec="lz4", asbytes=True)


def unpack(payload: bytes) -> Any:
    """The object ``pack`` packed."""
    (size,) = struct.unpack_from("<Q", payload)
    return pickle.loads(pa.decompress(memoryview(payload)[8:], size, codec="lz4", asbytes=True))


class _Raised:
    """What a task's function raised, sent back as its result so that the driver raises the same exception
    (its class and message) as the in-process engine would, not Spark's wrapper of it."""

    def __init__(self, error: Exception) -> None:
        try:
            pickle.loads(pickle.dumps(error))  # an exception that cannot travel is sent as its text
            self.error: Exception = error
        except Exception:
            self.error = EngineError(f"{type(error).__name__}: {error}")

    def reraise(self) -> None:
        raise self.error


def _guarded(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return function(*args, **kwargs)
    except Exception as error:
        return _Raised(error)


def _returned(result: Any) -> Any:
    """A task's result, or the exception its function raised, raised here."""
    if isinstance(result, _Raised):
        result.reraise()
    return result


def _run_call(function: Callable[..., Any]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The ``applyInPandas`` function of ``map_calls``: one call's pickled arguments in, its pickled result out."""

    def run(call: pd.DataFrame) -> pd.DataFrame:
        result = _guarded(function, *unpack(call["payload"].iloc[0]))
        payload = pack(result)
        return pd.DataFrame({"group": [call["group"].iloc[0]], "payload": [payload]})

    return run


def _run_group(
    function: Callable[..., pd.DataFrame], names: Sequence[str], shared: Mapping[str, Any] | Any
) -> Callable[[pd.DataFrame], pd.DataFrame]:
    """The ``applyInPandas`` function: one group's pickled pieces in, the function's pickled frame out.
    ``shared``: the arguments every group gets, or a Spark broadcast of them (its ``value``)."""

    def run(pieces: pd.DataFrame) -> pd.DataFrame:
        frames = dict(zip(pieces["name"], (unpack(p) for p in pieces["payload"]), strict=True))
        missing = [n for n in names if n not in frames]
        if missing:
            raise ValueError(f"engine: group {pieces['group'].iloc[0]!r} lacks its {missing} piece(s)")
        common = shared if isinstance(shared, Mapping) else shared.value
        result = _guarded(function, **{n: frames[n] for n in names}, **common)
        payload = pack(result)
        return pd.DataFrame({"group": [pieces["group"].iloc[0]], "payload": [payload]})

    return run


class EngineResource(ConfigurableResource):
    """The engine of the heavy assets: in-process (no Spark URL set) or a Spark session.

    ``master_url`` (``SPARK_MASTER_URL``: ``spark://host:7077``, ``local[*]``, ``yarn``, ``k8s://…``) starts
    a classic session; ``remote`` (``SPARK_REMOTE``: ``sc://host:15002``) a Spark Connect one. The other
    fields are applied to the session as Spark conf.
    """

    master_url: str = ""
    remote: str = ""
    app_name: str = DEFAULT_APP_NAME
    executor_memory: str = ""
    """``spark.executor.memory`` (e.g. ``8g``); empty: the cluster's default."""
    executor_cores: int = 0
    """``spark.executor.cores``; 0: the cluster's default."""
    driver_memory: str = DEFAULT_DRIVER_MEMORY
    """``spark.driver.memory`` of a session this process starts (its JVM holds a run's pieces and results)."""
    executor_python: str = ""
    """The Python the executors run (``PYSPARK_PYTHON``); empty: this interpreter (same image or host)."""
    extra_conf: str = ""
    """More Spark conf: ``spark.key=value`` pairs, one a line or separated by commas."""
    ship_code: bool = False
    """Send this package to the executors with the session (for executors whose Python lacks it; its
    dependencies must be there)."""
    direct_io: str = "auto"
    """Whether executors read the inputs of ``indicators`` and ``targets`` from the store and write their outputs
    there (``direct.py``): ``on``, ``off`` (the rows pass through the driver), or ``auto`` (on with an S3 store
    or a ``local[...]`` master; a local directory must be mounted at the same path on every executor)."""
    _session: Any = PrivateAttr(default=None)
    _owned: bool = PrivateAttr(default=False)
    _staging: str = PrivateAttr(default="")

    @property
    def uses_spark(self) -> bool:
        """Whether the per-asset work runs on Spark."""
        return bool(self.master_url.strip() or self.remote.strip())

    def reads_store(self, store: object) -> bool:
        """Whether the heavy steps run store to store on Spark (``direct_io``) with ``store`` (a PartitionStore)."""
        if not self.uses_spark or self.direct_io == "off":
            return False
        on_s3 = getattr(getattr(store, "root", None), "scheme", None) == "s3"
        return self.direct_io == "on" or on_s3 or self.master_url.strip().startswith("local")

    def describe(self) -> str:
        """Where the work runs, as metadata shows it (credentials hidden)."""
        if self.remote.strip():
            return f"spark connect {redact_url(self.remote)}"
        if self.master_url.strip():
            return f"spark {redact_url(self.master_url)}"
        return "in-process"

    def setup_for_execution(self, context: InitResourceContext) -> None:
        """Check the settings when the run starts (the session itself starts when first used)."""
        from portfolio_assets import settings

        if self.master_url.strip() and self.remote.strip():
            raise settings.SettingError(
                f"set {settings.SPARK_MASTER_URL_ENV} or {settings.SPARK_REMOTE_ENV}, not both "
                f"({redact_url(self.master_url)} and {redact_url(self.remote)})"
            )
        settings.check_fields(
            self,
            (
                (settings.SPARK_MASTER_URL_ENV, "master_url"),
                (settings.SPARK_REMOTE_ENV, "remote"),
                (settings.SPARK_APP_NAME_ENV, "app_name"),
                (settings.SPARK_EXECUTOR_MEMORY_ENV, "executor_memory"),
                (settings.SPARK_DRIVER_MEMORY_ENV, "driver_memory"),
                (settings.SPARK_CONF_ENV, "extra_conf"),
                (settings.SPARK_PYTHON_ENV, "executor_python"),
                (settings.SPARK_DIRECT_IO_ENV, "direct_io"),
            ),
        )

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """Stop the session this run started."""
        self.stop()

    def conf(self) -> dict[str, str]:
        """The Spark conf the session is built with."""
        conf = {
            "spark.app.name": self.app_name,
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.execution.arrow.pyspark.enabled": "true",
            "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
        }
        if self.executor_memory.strip():
            conf["spark.executor.memory"] = self.executor_memory.strip()
        if self.executor_cores:
            conf["spark.executor.cores"] = str(self.executor_cores)
        if self.driver_memory.strip():
            conf["spark.driver.memory"] = self.driver_memory.strip()
        conf.update(parse_conf(self.extra_conf))
        return conf

    def session(self) -> Any:
        """The run's Spark session: created on first use (an active one with the same master is reused)."""
        if self._session is not None:
            return self._session
        if not self.uses_spark:
            raise EngineError("engine: no Spark URL is set (SPARK_MASTER_URL / SPARK_REMOTE); the work runs in-process")
        from pyspark.sql import SparkSession

        remote = self.remote.strip()
        url, setting = (remote, "SPARK_REMOTE") if remote else (self.master_url.strip(), "SPARK_MASTER_URL")
        active = None if remote else SparkSession.getActiveSession()
        if active is not None:
            if active.sparkContext.master != url:  # getOrCreate would hand it back, ignoring the master asked for
                raise EngineError(
                    f"Spark engine: {setting}={redact_url(url)}, but another Spark session (master "
                    f"{redact_url(active.sparkContext.master)}) is active in this process; stop it first"
                )
            self._session, self._owned = active, False
            return active
        check_reachable(url, setting=setting)
        from portfolio_assets.settings import use_executor_python

        use_executor_python(self.executor_python.strip() or sys.executable, chosen=bool(self.executor_python.strip()))
        builder = SparkSession.builder.remote(url) if remote else SparkSession.builder.master(url)
        for key, value in self.conf().items():
            if not (remote and key.startswith(("spark.executor.", "spark.driver.", "spark.app."))):  # the server's
                builder = builder.config(key, value)
        try:
            # Connect's getOrCreate would hand back any session of this process, whatever its URL: create ours.
            self._session = builder.create() if remote else builder.getOrCreate()
        except Exception as exc:  # py4j / gRPC errors: name the endpoint, never its credentials
            cause = str(exc).replace(url, redact_url(url)).strip()
            raise EngineError(
                f"Spark engine: no session at {setting}={redact_url(url)}: {type(exc).__name__}: {cause[:2000]}"
            ) from None
        self._owned = True
        if self.ship_code:
            self._staging = tempfile.mkdtemp(prefix="portfolio-assets-code-")
            ship_package(self._session, Path(self._staging))
        return self._session

    def parallelism(self) -> int:
        """How many tasks the session runs at once (its default parallelism; on Spark Connect, the server's
        ``spark.default.parallelism`` if set), at least 2; 1 in-process."""
        if not self.uses_spark:
            return 1
        spark = self.session()
        if _is_connect(spark):
            return max(2, int(spark.conf.get("spark.default.parallelism", "8")))
        return max(2, int(spark.sparkContext.defaultParallelism))

    def stop(self) -> None:
        """Stop the session if this resource started it."""
        if self._session is not None and self._owned:
            self._session.stop()
        if self._staging:
            shutil.rmtree(self._staging, ignore_errors=True)
        self._session, self._owned, self._staging = None, False, ""

    def by_asset(
        self,
        function: Callable[..., pd.DataFrame],
        frames: Mapping[str, pd.DataFrame],
        *,
        shared: Mapping[str, Any] | None = None,
        order: Sequence[str] = ("asset_symbol", "timestamp"),
        key: str = KEY_COLUMN,
    ) -> pd.DataFrame:
        """``function(**frames, **shared)``: in-process on the whole frames, or on Spark once per value of
        ``key`` (each frame cut to that asset, ``shared`` given whole), the results put back in ``order``.

        ``function`` must treat assets independently (every ``features/`` family does), so both give the same
        rows; ``order`` is the order ``function`` returns its rows in (a stable sort restores it).
        """
        results = self.map_assets(function, frames, shared=shared, key=key)
        return results[0] if len(results) == 1 and not self.uses_spark else joined(results, order)

    def map_assets(
        self,
        function: Callable[..., Any],
        frames: Mapping[str, pd.DataFrame],
        *,
        shared: Mapping[str, Any] | None = None,
        key: str = KEY_COLUMN,
    ) -> list[Any]:
        """``[function(**frames, **shared)]`` in-process; on Spark, ``function`` of each asset's rows (any result
        that pickles), by asset (sorted), whatever order the rows come in."""
        shared = dict(shared or {})
        if not self.uses_spark:
            return [function(**frames, **shared)]
        names = list(frames)
        pieces = {name: split_by(frame, key) for name, frame in frames.items()}
        groups = list(dict.fromkeys(g for split in pieces.values() for g in split))
        if not groups:
            return [function(**frames, **shared)]
        results = self._apply(function, names, shared, groups, pieces, frames)
        return [results[g] for g in sorted(groups)]

    def map_calls(self, function: Callable[..., Any], calls: Sequence[tuple[Any, ...]]) -> list[Any]:
        """``[function(*args) for args in calls]``, in order: here in-process, or one Spark task per call
        (``function``'s arguments and result pickled; results held by the driver until all are done)."""
        if not self.uses_spark or not calls:
            return [function(*args) for args in calls]
        spark = self.session()
        rows = pd.DataFrame(
            [(str(i), "call", pack(args)) for i, args in enumerate(calls)],
            columns=["group", "name", "payload"],
        )
        with self._job(spark, getattr(function, "__name__", "a function"), len(calls)):
            table = spark.createDataFrame(rows, schema=_PIECES)
            done = table.groupBy("group").applyInPandas(_run_call(function), schema=_RESULTS).toPandas()
        results = {int(g): unpack(p) for g, p in zip(done["group"], done["payload"], strict=True)}
        if sorted(results) != list(range(len(calls))):
            raise EngineError(f"engine: Spark returned {len(results)} of {len(calls)} results")
        return [_returned(results[i]) for i in range(len(calls))]

    @contextmanager
    def _job(self, spark: Any, what: str, tasks: int) -> Iterator[None]:
        """Run a Spark job of ``tasks`` shuffle partitions (the session's own setting is put back after); if the
        session died under it (most often the driver's JVM out of memory), say so."""
        key = "spark.sql.shuffle.partitions"
        try:
            before = spark.conf.get(key)
            spark.conf.set(key, str(max(1, tasks)))
            try:
                yield
            finally:
                if not _stopped(spark):
                    spark.conf.set(key, before)
        except Exception as exc:
            if not _stopped(spark):
                raise
            self._session, self._owned = None, False
            raise EngineError(
                f"Spark engine: the session ({self.describe()}) stopped while running {what} per asset: "
                f"{type(exc).__name__}. Most often its driver JVM ran out of memory (it holds the run's pieces "
                f"and results): raise PORTFOLIO_SPARK_DRIVER_MEMORY (now {self.driver_memory or 'Spark default'}), "
                "or build in smaller ranges (materialize_all(partitions_per_run=…)); the driver log says more"
            ) from exc

    def _apply(
        self,
        function: Callable[..., pd.DataFrame],
        names: list[str],
        shared: dict[str, Any],
        groups: list[str],
        pieces: dict[str, dict[str, pd.DataFrame]],
        frames: Mapping[str, pd.DataFrame],
    ) -> dict[str, pd.DataFrame]:
        spark = self.session()
        rows = pd.DataFrame(
            list(_piece_rows(names, groups, pieces, frames)),
            columns=["group", "name", "payload"],
        )
        with self._job(spark, getattr(function, "__name__", "a function"), len(groups)):
            table = spark.createDataFrame(rows, schema=_PIECES)
            # A classic session broadcasts what every asset shares (sent to each executor once); Spark Connect has
            # no broadcast variables, so there it travels with the function, as the task's closure.
            common = shared if _is_connect(spark) or not shared else spark.sparkContext.broadcast(shared)
            try:
                done = table.groupBy("group").applyInPandas(_run_group(function, names, common), schema=_RESULTS)
                collected = done.toPandas()
            finally:
                if common is not shared and not _stopped(spark):
                    common.destroy()
        results = {str(g): unpack(p) for g, p in zip(collected["group"], collected["payload"], strict=True)}
        lost = [g for g in groups if g not in results]
        if lost:
            raise EngineError(f"engine: Spark returned no result for {len(lost)} asset(s), e.g. {lost[:3]}")
        return {g: _returned(results[g]) for g in groups}  # the first asset's error, in input order


def ship_package(spark: Any, staging: Path) -> Path:
    """Zip this package under ``staging`` (dagster-pyspark's ``build_pyspark_zip``; no sample data, no bytecode)
    and add it to ``spark``'s Python path on every executor; the zip's path."""
    from dagster_pyspark.utils import build_pyspark_zip

    import portfolio_assets

    package = Path(portfolio_assets.__file__).parent
    skip = shutil.ignore_patterns("__pycache__", "sample_data")
    shutil.copytree(package, staging / "src" / package.name, ignore=skip)
    archive = staging / f"{package.name}.zip"
    build_pyspark_zip(str(archive), str(staging / "src"))
    if _is_connect(spark):
        spark.addArtifacts(str(archive), pyfile=True)
    else:
        spark.sparkContext.addPyFile(str(archive))
    return archive


def _stopped(spark: Any) -> bool:
    """Whether a classic session's context has stopped, or its JVM is gone (a Connect session: never here)."""
    if _is_connect(spark):
        return False
    try:
        jsc = spark.sparkContext._jsc
        return jsc is None or bool(jsc.sc().isStopped())
    except Exception:  # the py4j gateway is gone with its JVM
        return True


def _is_connect(spark: Any) -> bool:
    """Whether ``spark`` is a Spark Connect session (no SparkContext, no broadcast variables)."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def _piece_rows(
    names: list[str],
    groups: list[str],
    pieces: dict[str, dict[str, pd.DataFrame]],
    frames: Mapping[str, pd.DataFrame],
) -> Iterator[tuple[str, str, bytes]]:
    """One (group, frame name, pickled piece) per group and frame; an empty piece where a frame lacks a group."""
    for group in groups:
        for name in names:
            piece = pieces[name].get(group)
            if piece is None:
                piece = frames[name].iloc[0:0].reset_index(drop=True)
            yield group, name, pack(piece)
