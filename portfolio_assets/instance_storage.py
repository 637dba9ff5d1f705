"""The Dagster instance's SQLite storage, with one SQLAlchemy engine per database file.

Dagster's ``SqliteEventLogStorage`` builds a new engine for every connection it opens (several for each event
it stores: the run's database, then the cross-run index), so every statement is compiled again and every
engine set up again. Profiled on a labelled range of the benchmark (500 assets, 8 months: ~100 events), the
event writes took 4.5 CPU-s of an 18.8 CPU-s run; with one engine per database file, 2.6 (BENCHMARKS.md).
This storage is Dagster's own in every other respect: the same files under ``$DAGSTER_HOME`` (an instance
written by either storage reads with the other), the same schema, the same WAL journal, the same busy
timeout; connections are still opened per use and closed after it (``NullPool``), so no connection outlives a
transaction or crosses a thread or a process. ``dagster.yaml`` selects it::

    storage:
      custom:
        module: portfolio_assets.instance_storage
        class: SqliteStorage
        config:
          base_dir: {env: DAGSTER_HOME}
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

ENGINES_KEPT = 32
"""Engines kept per storage: the index's and the most recent runs' (a webserver browses many runs)."""


class EngineCachingSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` keeping the engine of each database file (shard) it connects to."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
            self._engines[shard] = engine
            while len(self._engines) > ENGINES_KEPT:
                self._engines.popitem(last=False)[1].dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # type: ignore[override]
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs or not os.path.exists(self.path_for_shard(shard)):
                self._initdb(engine)  # as Dagster does, once per file (and again if the file was deleted)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def dispose(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()
        super().dispose()


class SqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, event logs, schedules under ``base_dir``), its event log storage
    keeping one engine per database file (``EngineCachingSqliteEventLogStorage``)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(base_dir, inst_data=inst_data)
        events = self._event_log_storage
        self._event_log_storage = EngineCachingSqliteEventLogStorage(events._base_dir)
        events.dispose()

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> SqliteStorage:
        return cls.from_local(inst_data=inst_data, **config_value)
