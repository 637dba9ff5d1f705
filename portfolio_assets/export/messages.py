"""Message-list columns: chat turns exported as real lists of ``{role, content}``, not JSON text in a cell.

Which columns: ``MESSAGE_COLUMNS`` (``messages``, ``prompt``, ``completion``). ``messages`` always holds a
message list; ``prompt`` / ``completion`` hold one when their values are JSON arrays (the chat prompt format),
plain strings otherwise (the features / timeseries formats), decided by the first present value of the rows
given (every value of a message column must then be a message list). A value is JSON
text of an array (or a Python list) of objects with exactly the keys ``role`` (one of ``ROLES``) and
``content`` (a string); anything else is an error naming the column and the row.

In the files: JSONL writes the array itself, Parquet a ``list<struct<role: string, content: string>>`` column,
CSV the JSON text. The text is canonical (``canonical_text``: compact, keys ``role`` then ``content``, ``json``'s
escaping plus U+2028 / U+2029 escaped), so the bytes do not depend on how the caller wrote the JSON.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import orjson
import pyarrow as pa

from portfolio_assets import strict_json

__all__ = ["MESSAGES_TYPE", "MESSAGE_COLUMNS", "ROLES", "canonical_text", "is_message_column", "message_array", "parse"]

MESSAGE_COLUMNS = ("messages", "prompt", "completion")
ROLES = ("system", "user", "assistant")
MESSAGES_TYPE = pa.list_(pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())]))
"""The Arrow (Parquet) type of a message-list column."""


def is_message_column(name: str, values: Sequence[object]) -> bool:
    """Whether column ``name`` (its values, missing as None) is a message list: ``messages`` always; ``prompt`` /
    ``completion`` when their first present value is a list or JSON array text."""
    if name == "messages":
        return True
    if name not in MESSAGE_COLUMNS:
        return False
    for value in values:
        if value is None or (isinstance(value, float) and value != value):
            continue
        return isinstance(value, list) or (isinstance(value, str) and value.startswith("["))
    return False


def parse(value: object, where: str) -> list[dict[str, str]]:
    """``value`` (JSON text or a list) as a validated message list; ValueError naming ``where`` otherwise."""
    checked = False  # orjson parsed it: its strings are valid UTF-8 (no lone surrogate)
    if isinstance(value, str):
        try:
            value, checked = orjson.loads(value), True
        except orjson.JSONDecodeError:  # stricter than json (e.g. an escaped lone surrogate): json decides
            try:
                value = strict_json.loads(value)
            except ValueError as exc:
                raise ValueError(f"{where} is not a JSON array of messages ({exc}): {value!r:.80}") from None
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where} is not a non-empty array of {{role, content}} messages: {value!r:.80}")
    out = []
    for i, message in enumerate(value):
        if not isinstance(message, dict) or message.keys() != {"role", "content"}:
            raise ValueError(f"{where}: message {i} must be an object with exactly role and content: {message!r:.80}")
        role, content = message["role"], message["content"]
        if role not in ROLES:
            raise ValueError(f"{where}: message {i} has role {role!r}; expected one of {list(ROLES)}")
        if not isinstance(content, str):
            raise ValueError(f"{where}: message {i} content is a {type(content).__name__}, expected a string")
        if not checked:
            try:
                content.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(f"{where}: message {i} content holds a lone surrogate (not UTF-8)") from None
        out.append({"role": role, "content": content})
    return out


def canonical_text(messages: list[dict[str, str]]) -> str:
    """The JSON text of a validated message list as the export writes it (compact, role then content): orjson's
    escaping is ``json.encoder.encode_basestring``'s, character for character; U+2028 / U+2029 are escaped too."""
    return orjson.dumps(messages).decode("utf-8").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def message_array(texts: Sequence[str | None]) -> pa.Array:
    """Canonical texts (``canonical_text``; None where missing) as a ``MESSAGES_TYPE`` Arrow array."""
    return pa.array([None if t is None else json.loads(t) for t in texts], MESSAGES_TYPE)
