"""Spark URLs and conf: what a master (``spark://``, ``local[*]``, …) and a Spark Connect URL (``sc://``) may be,
how one is shown without its credentials, which endpoint it dials, and extra conf pairs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit


def redact_url(url: str) -> str:
    """``url`` without credentials: user info, and ``token`` / ``password`` / ``secret`` parameters of a
    Spark Connect URL (``sc://host:15002/;token=…``), become ``***``."""
    text = url.strip()
    head, sep, params = text.partition(";")
    try:
        parts = urlsplit(head)
        if parts.username or parts.password:
            host = parts.hostname or ""
            port = f":{parts.port}" if parts.port else ""
            head = f"{parts.scheme}://***@{host}{port}{parts.path}"
    except ValueError:
        return "(URL hidden: not parsable)"
    kept = []
    for item in params.split(";") if sep else []:
        name, eq, _ = item.partition("=")
        secret = any(word in name.lower() for word in ("token", "password", "secret", "key"))
        kept.append(f"{name}{eq}***" if eq and secret else item)
    return head + (";" + ";".join(kept) if sep else "")


def parse_conf(text: str) -> dict[str, str]:
    """Extra Spark conf: ``spark.key=value`` pairs, one a line or separated by commas (a comma followed by
    anything but ``spark.`` belongs to the value, as in ``spark.jars.packages=a:b:1,c:d:2``)."""
    conf: dict[str, str] = {}
    for number, item in enumerate(re.split(r"\n|,(?=\s*spark\.)", text), start=1):
        if not item.strip():
            continue
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or not key.startswith("spark.") or not value.strip():
            what = f"{key!r}" if eq else f"pair {number}"  # never a value: it may be a key
            raise ValueError(f"holds {what}, not a Spark setting written spark.<key>=<value>")
        conf[key] = value.strip()
    return conf


def endpoints_of(url: str) -> list[tuple[str, int]]:
    """The (host, port) endpoints a ``spark://`` or ``sc://`` URL dials (none for ``local[...]``, ``yarn``,
    ``k8s://``). A standalone URL may list standby masters (``spark://h1:7077,h2:7077``): each is one."""
    text = url.strip().split(";", 1)[0]
    scheme, _, rest = text.partition("://")
    if scheme not in ("spark", "sc"):
        return []
    found = []
    for hostport in rest.split("/", 1)[0].split(","):
        hostport = hostport.rpartition("@")[2]
        host, _, port = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
        try:
            found.append((host.strip("[]"), int(port) if port else 15002 if scheme == "sc" else 7077))
        except ValueError:
            raise ValueError(f"Spark URL {redact_url(url)}: the port is not a number") from None
    return found


def spark_master(text: str) -> str:
    """A Spark master URL: ``local``, ``local[N]``, ``local[*]``, ``spark://host:port[,host:port]``, ``yarn``,
    ``k8s://…``."""
    value = text.strip()
    if re.fullmatch(r"local(\[(\*|[1-9][0-9]*)(,[0-9]+)?\])?|yarn|k8s://\S+", value):
        return value
    if re.fullmatch(r"spark://[^\s/,:@]+(:[0-9]{1,5})?(,[^\s/,:@]+(:[0-9]{1,5})?)*", value):
        return value
    raise ValueError("is not a Spark master URL (local[*], local[N], spark://host:7077, yarn or k8s://…)")


def spark_remote(text: str) -> str:
    """A Spark Connect URL: ``sc://host[:port][/;param=value…]``."""
    if not re.fullmatch(r"sc://[^\s/:;@]+(:[0-9]{1,5})?(/(;[^\s;=]+=[^\s;]*)*)?", text.strip()):
        raise ValueError("is not a Spark Connect URL (sc://host:15002, optionally /;token=…)")
    return text.strip()


def spark_memory(text: str) -> str:
    """A JVM memory size as Spark takes it: ``512m``, ``8g``, ``1t``."""
    if not re.fullmatch(r"[1-9][0-9]*[kmgtKMGT]", text.strip()):
        raise ValueError("is not a memory size such as 512m or 8g")
    return text.strip()


def spark_conf(text: str) -> str:
    """Extra Spark conf: ``spark.key=value`` pairs separated by commas."""
    parse_conf(text)
    return text


def redacted_url(text: str) -> str:
    """A Spark URL as an error may show it (credentials hidden)."""
    return repr(redact_url(text))
