"""A picture of the Dagster UI's global asset lineage for the README: ``docs/lineage.png``.

Starts ``dagster-webserver -w workspace.yaml`` on 127.0.0.1 as ``make dev`` does (the instance of
``DAGSTER_HOME`` and the project settings of the environment: ``make lineage-image`` uses the demo's), opens
the global asset lineage in headless Chromium (the raw sources' group expanded, asset by asset; every other
group one box, as the UI first shows them), hides the asset tree, fits the graph to the width, waits until every
node is drawn and its data loaded, and saves a screenshot; then stops both.

Needs Debian's Chromium (``apt-get install chromium``: ``/usr/bin/chromium``, or ``--chromium PATH``) and the
``websockets`` package, which comes with dagster-webserver (``uvicorn[standard]``). Chromium is driven over
the DevTools protocol; nothing else is installed. CI does not run this.

``python scripts/lineage_screenshot.py [--out docs/lineage.png] [--expand sources] [--width 1600] [--height 1000]``
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a plain script, without an editable install
    sys.path.insert(0, str(REPO_ROOT))

from websockets.sync.client import ClientConnection, connect  # noqa: E402

from portfolio_assets_tests.webserver import (  # noqa: E402
    LOCATION,
    REPOSITORY,
    Webserver,
    checkout_first,
    group_alive,
    running_webserver,
)

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
]
"""Headless, and none of Chromium's own connections (a closed network refuses them, and they are not needed)."""

UI_PREFERENCES = {
    "communityNux": "1",  # the "Join the Dagster community" dialog: dismissed
    "dagster-nav-collapsed": True,  # the main navigation as icons
    "asset-graph-direction": "horizontal",
    "asset-node-facets": ["checks", "partitions", "kind-tag"],  # what each node shows
}
"""Local-storage preferences of the Dagster UI (1.13) set before the page loads."""

GROUPS = """
query Groups($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    ... on Repository { assetGroups { groupName assetKeys { path } } }
  }
}
"""

GRAPH_STATE = """
(() => {
  const svg = Array.from(document.querySelectorAll('svg')).sort(
    (a, b) => (b.getAttribute('width') || 0) - (a.getAttribute('width') || 0))[0];
  const busy = document.querySelectorAll('[class*="Spinner_spinner"], [class*="IndeterminateLoadingBar_load__"]');
  return {text: svg ? svg.textContent : '', busy: Array.from(busy).filter(e => e.offsetParent).length};
})()
"""
"""The graph's text (every node's name and contents) and how many spinners or loading bars are showing."""

HIDE_SIDEBAR = """
(() => {
  const icon = document.querySelector('button [aria-label="panel_show_right"]');
  if (icon) { icon.closest('button').click(); }
  return Boolean(icon);
})()
"""
"""Hide the asset tree beside the graph (its toggle's icon); whether it was found."""

FIT_GRAPH = """
(() => {
  const svg = Array.from(document.querySelectorAll('svg')).sort(
    (a, b) => (b.getAttribute('width') || 0) - (a.getAttribute('width') || 0))[0];
  const box = svg.parentElement.parentElement.getBoundingClientRect();
  svg.parentElement.parentElement.dispatchEvent(new MouseEvent('dblclick', {
    bubbles: true, clientX: box.left + 5, clientY: box.top + 5}));
  return [box.width, box.height];
})()
"""
"""Double-click the graph's background: the UI centres the graph, fitting its width."""


class DevTools:
    """A minimal DevTools-protocol client of one page: numbered commands, events skipped."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command, return its result (raises on a protocol error)."""
        number = next(self.ids)
        self.socket.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"script failed: {result['exceptionDetails']}")
        return result["result"].get("value")


@contextmanager
def chromium(binary: str, width: int, height: int) -> Iterator[DevTools]:
    """Headless Chromium with a throwaway profile, its first page driven over the DevTools protocol."""
    with tempfile.TemporaryDirectory(prefix="lineage-chromium-", ignore_cleanup_errors=True) as profile:
        command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"]
        process = subprocess.Popen(
            [*command, "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 30
            while not (port_file.exists() and port_file.read_text().strip()):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{binary} did not start (exit status {process.poll()})")
                time.sleep(0.1)
            port = port_file.read_text().split()[0]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
                page = next(t for t in json.load(answer) if t["type"] == "page")
            with connect(page["webSocketDebuggerUrl"], max_size=None) as socket:
                yield DevTools(socket)
        finally:
            stop_group(process)


def stop_group(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM to the process group ``process`` leads (Chromium and its helpers), SIGKILL after ``timeout`` s."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + timeout
    while group_alive(process.pid) and time.monotonic() < deadline:  # its helpers leave after it
        time.sleep(0.1)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def lineage_url(server: Webserver, expand: list[str]) -> tuple[str, set[str]]:
    """The global lineage with the groups ``expand`` (``all``: every group) expanded, and the names it must show:
    each expanded group's assets, each other group's name."""
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    groups = server.graphql(GROUPS, {"selector": selector})["repositoryOrError"]["assetGroups"]
    known = {g["groupName"] for g in groups}
    if "all" not in expand and not set(expand) <= known:
        raise SystemExit(f"no group {sorted(set(expand) - known)}; the groups are {sorted(known)}")
    opened = [g for g in groups if "all" in expand or g["groupName"] in expand]
    names = {"/".join(k["path"]) for g in opened for k in g["assetKeys"]}
    names |= {g["groupName"] for g in groups if g not in opened}
    expanded = ",".join(f"global@global:{g['groupName']}" for g in opened)  # the UI's ids of groups (1.13)
    return f"{server.url}/asset-groups?expanded={quote(expanded, safe='@:,')}", names


def wait_for_graph(page: DevTools, names: set[str], timeout: float) -> None:
    """Until ``names`` are all drawn (the UI draws only the nodes in view), nothing is loading, and the graph's text
    has stopped changing (every node's data arrived)."""
    deadline = time.monotonic() + timeout
    previous, state = None, {"text": "", "busy": 0}
    while time.monotonic() < deadline:
        state = page.evaluate(GRAPH_STATE)
        ready = bool(state["text"]) and all(name in state["text"] for name in names) and not state["busy"]
        if ready and state["text"] == previous:
            return
        previous = state["text"] if ready else None
        time.sleep(1.0)
    missing = sorted(n for n in names if n not in state["text"])
    raise RuntimeError(f"the lineage did not render in {timeout:.0f} s: missing {missing}, {state['busy']} loading")


def screenshot(
    server: Webserver, out: Path, *, expand: list[str], binary: str, width: int, height: int, timeout: float
) -> None:
    """Save the global lineage of ``server`` (the groups ``expand`` expanded) as a PNG of ``width`` x ``height``."""
    url, names = lineage_url(server, expand)
    with chromium(binary, width, height) as page:
        page.call("Page.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        preferences = ";".join(
            f"localStorage.setItem({json.dumps(k)}, {json.dumps(json.dumps(v))})" for k, v in UI_PREFERENCES.items()
        )
        page.call("Page.addScriptToEvaluateOnNewDocument", source=f"try {{ {preferences} }} catch (e) {{}}")
        page.call("Page.navigate", url=url)
        wait_for_graph(page, set(), timeout)  # drawn, at the UI's first zoom: maybe not every node in view
        if not page.evaluate(HIDE_SIDEBAR):
            print("the asset tree's toggle was not found: the tree stays beside the graph", file=sys.stderr)
        time.sleep(1.0)
        page.evaluate(FIT_GRAPH)
        time.sleep(1.5)  # the UI animates the fit
        wait_for_graph(page, names, timeout)
        png = page.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(png))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "lineage.png", help="the PNG to write")
    parser.add_argument(
        "--expand",
        nargs="+",
        default=["sources"],
        help="groups drawn asset by asset (default: the raw sources; 'all': every group, a tall graph that does not "
        "fit the picture at a readable size), the others as one box each",
    )
    parser.add_argument("--width", type=int, default=1600)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium's binary (Debian's package)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for the server and the graph")
    args = parser.parse_args()
    if not Path(args.chromium).exists():
        parser.error(f"{args.chromium} not found: install Debian's chromium (apt-get install chromium)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server and Chromium on the way out
    env = checkout_first(dict(os.environ))
    with (
        tempfile.TemporaryDirectory(prefix="lineage-webserver-") as logs,
        running_webserver(env, Path(logs) / "webserver.log", timeout=args.timeout) as web,
    ):
        screenshot(
            web,
            args.out,
            expand=args.expand,
            binary=args.chromium,
            width=args.width,
            height=args.height,
            timeout=args.timeout,
        )
    print(f"{args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
