"""Real Spark processes for the tests, from pyspark's own distribution, bound to 127.0.0.1 and stopped after:
a standalone master and one worker, and a Spark Connect server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyspark

SPARK_HOME = Path(pyspark.__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(log_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_LOG_DIR": str(log_dir),
        "PYSPARK_PYTHON": sys.executable,
    }


def _start(args: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    out = log.open("wb")
    return subprocess.Popen(
        [str(SPARK_HOME / "bin" / "spark-class"), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # the JVM and its children are stopped as one group
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def _wait(condition, what: str, logs: list[Path], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OSError:
            pass
        time.sleep(0.5)
    tails = "\n".join(f"--- {p}\n" + p.read_text(errors="replace")[-3000:] for p in logs if p.exists())
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s\n{tails}")


@dataclass(frozen=True)
class Standalone:
    """A running standalone cluster."""

    master_url: str
    ui_url: str

    def state(self) -> dict:
        """The master's UI JSON: workers, active and completed applications."""
        with urllib.request.urlopen(f"{self.ui_url}/json/", timeout=10) as reply:
            return json.loads(reply.read())


@contextmanager
def standalone_cluster(work_dir: Path, *, cores: int = 2, memory: str = "2g") -> Iterator[Standalone]:
    """A master and one worker on 127.0.0.1 (``spark-class …Master`` / ``…Worker``), stopped on exit."""
    work_dir.mkdir(parents=True, exist_ok=True)
    env = _env(work_dir)
    port, ui = free_port(), free_port()
    master_log, worker_log = work_dir / "master.log", work_dir / "worker.log"
    master = _start(
        ["org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui)],
        master_log,
        env,
    )
    worker = None
    cluster = Standalone(f"spark://127.0.0.1:{port}", f"http://127.0.0.1:{ui}")
    try:
        _wait(lambda: cluster.state()["status"] == "ALIVE", "the standalone master", [master_log])
        worker = _start(
            [
                "org.apache.spark.deploy.worker.Worker",
                "--host", "127.0.0.1",
                "--webui-port", str(free_port()),
                "--cores", str(cores),
                "--memory", memory,
                "--work-dir", str(work_dir / "work"),
                cluster.master_url,
            ],
            worker_log,
            env,
        )  # fmt: skip
        _wait(
            lambda: any(w["state"] == "ALIVE" for w in cluster.state()["workers"]),
            "the standalone worker",
            [master_log, worker_log],
        )
        yield cluster
    finally:
        for process in (worker, master):
            if process is not None:
                _stop(process)


@contextmanager
def connect_server(work_dir: Path) -> Iterator[str]:
    """A Spark Connect server (``SparkConnectServer`` over ``local[2]``) on 127.0.0.1; yields its ``sc://`` URL."""
    work_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = work_dir / "connect.log"
    server = _start(
        [
            "org.apache.spark.deploy.SparkSubmit",
            "--master", "local[2]",
            "--class", "org.apache.spark.sql.connect.service.SparkConnectServer",
            "--name", "Spark Connect server",
            "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
            "--conf", f"spark.connect.grpc.binding.port={port}",
            "--conf", "spark.ui.enabled=false",
            "--conf", "spark.driver.host=127.0.0.1",
            "--conf", "spark.sql.session.timeZone=UTC",
            "spark-internal",
        ],
        log,
        _env(work_dir),
    )  # fmt: skip

    def listening() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    try:
        _wait(lambda: server.poll() is None and listening(), "the Spark Connect server", [log])
        yield f"sc://127.0.0.1:{port}"
    finally:
        _stop(server)
