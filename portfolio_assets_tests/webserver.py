"""The real Dagster webserver on loopback, for tests and scripts (``test_webserver``, ``scripts/lineage_screenshot``).

``make dev`` runs ``dagster dev``; this starts only ``dagster-webserver -w workspace.yaml`` (no daemon) from the
interpreter's own environment, in the repository root, with this checkout first on ``PYTHONPATH`` so the server
and its code server import this checkout's code. Every project setting of the caller's environment is dropped:
the server sees only the settings given.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from portfolio_assets import settings

ROOT = Path(__file__).resolve().parents[1]
LOCATION = "portfolio_assets"
REPOSITORY = "__repository__"
"""The workspace's code location (workspace.yaml) and the repository name Dagster gives a ``Definitions``."""

PROJECT_VARIABLES = frozenset(
    {
        *settings.SETTINGS,
        settings.START_DATE_ENV,
        settings.END_DATE_ENV,
        settings.DEPLOYMENT_ENV,
        settings.PARTITIONS_ENV,
        settings.SOURCE_MODE_ENV,
        "DAGSTER_HOME",
    }
)
"""Variables the project reads: a child gets none of the caller's, only those it is given."""

LOCATION_STATUS = """
query { workspaceOrError { __typename ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message causes { message } } } } }
  ... on PythonError { message } } }
"""


class WebserverError(RuntimeError):
    """The webserver did not start, answered with errors, or did not stop; the message holds its log's tail."""


def project_env(home: Path, data_dir: Path, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for a child process: the caller's without its project settings, the instance ``home`` (made,
    with the repository's dagster.yaml), the store ``data_dir``, ``overrides``, this checkout first on the path."""
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items() if k not in PROJECT_VARIABLES}
    env.update({"DAGSTER_HOME": str(home), settings.DATA_DIR_ENV: str(data_dir), **(overrides or {})})
    return checkout_first(env)


def checkout_first(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` with this checkout first on ``PYTHONPATH``: a child imports its code, not an installed copy."""
    return {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)}


def backfill(env: Mapping[str, str], first: str, last: str, only: str = "all", timeout: float = 600) -> dict[str, Any]:
    """Run ``python -m portfolio_assets.backfill first last --only only`` in ``env``; its JSON summary.

    A failed backfill raises, with the command's output."""
    command = [sys.executable, "-m", "portfolio_assets.backfill", first, last, "--only", only]
    done = subprocess.run(command, capture_output=True, text=True, env=dict(env), cwd=ROOT, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def executable(name: str) -> str:
    """A console script of this interpreter's environment (beside ``sys.executable``), else from ``PATH``."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise WebserverError(f"{name} is not installed beside {sys.executable} nor on PATH")
    return found


@dataclass
class Webserver:
    """A running ``dagster-webserver`` process (its own process group) and where it answers."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's combined stdout and stderr."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"

    def graphql(self, query: str, variables: Mapping[str, Any] | None = None, timeout: float = 120) -> dict[str, Any]:
        """The ``data`` of a GraphQL query; a response with ``errors`` raises, naming them."""
        response = requests.post(
            f"{self.url}/graphql", json={"query": query, "variables": dict(variables or {})}, timeout=timeout
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise WebserverError(f"GraphQL errors: {json.dumps(body['errors'])[:3000]}")
        return body["data"]

    def wait_until_loaded(self, timeout: float) -> None:
        """Wait until the server answers and its code location has loaded (raises, with its log, if not)."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise WebserverError(f"dagster-webserver exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if requests.get(f"{self.url}/server_info", timeout=5).ok:
                    workspace = self.graphql(LOCATION_STATUS, timeout=30)["workspaceOrError"]
                    entries = workspace.get("locationEntries", [])
                    last = json.dumps(workspace)[:2000]
                    errors = [e for e in entries if e["locationOrLoadError"]["__typename"] == "PythonError"]
                    if errors:
                        raise WebserverError(f"the code location did not load: {last}")
                    if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                        return
            except requests.RequestException as exc:
                last = repr(exc)
            time.sleep(0.5)
        raise WebserverError(f"dagster-webserver not ready after {timeout:.0f} s ({last}):\n{self.log_tail()}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then SIGKILL after ``timeout`` s, to the server and its code server; its exit status.

        Idempotent; raises if a process of its group is still alive afterwards."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
        deadline = time.monotonic() + timeout
        while group_alive(self.process.pid):  # the code server leaves when its heartbeat stops
            if time.monotonic() > deadline:
                with suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                raise WebserverError(f"a process of the webserver's group {self.process.pid} outlived it")
            time.sleep(0.2)
        return int(self.process.returncode)


def group_alive(pgid: int) -> bool:
    """Whether any process of process group ``pgid`` is alive (zombies count until reaped)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_webserver(env: Mapping[str, str], log: Path, *, port: int | None = None, timeout: float = 180) -> Webserver:
    """Start ``dagster-webserver -w workspace.yaml`` on 127.0.0.1 in ``env`` (output to ``log``) and wait until its
    code location has loaded; stopped again if it does not."""
    port = port or free_port()
    command = [executable("dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Webserver(process, f"http://127.0.0.1:{port}", log)
    try:
        server.wait_until_loaded(timeout)
    except BaseException:
        server.stop()
        raise
    return server


@contextmanager
def running_webserver(env: Mapping[str, str], log: Path, **kwargs: Any) -> Iterator[Webserver]:
    """``start_webserver``, stopped on leaving (whatever happened)."""
    server = start_webserver(env, log, **kwargs)
    try:
        yield server
    finally:
        server.stop()
