"""Field paths as scenario files write them: `.spec.replicas`, `.spec.containers[0].image`,
`{.status.phase}` (kubectl's braces are accepted), and keys with dots quoted in brackets:
`.data["application.conf"]`."""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(
    r"\.([A-Za-z0-9_\-/]+)|\[(\d+)\]|\[([A-Za-z0-9_\-]+)=([^\]]*)\]|\[\"([^\"\]]+)\"\]|\['([^'\]]+)'\]"
)


class JsonPathError(ValueError):
    pass


def parse(path: str) -> list[tuple[str, Any]]:
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if not text.startswith((".", "[")):
        text = "." + text
    tokens: list[tuple[str, Any]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise JsonPathError(f"cannot read path {path!r} at {text[position:]!r}")
        key, index, field, value, double_quoted, single_quoted = match.groups()
        key = key if key is not None else (double_quoted if double_quoted is not None else single_quoted)
        if key is not None:
            tokens.append(("key", key))
        elif index is not None:
            tokens.append(("index", int(index)))
        else:
            tokens.append(("match", (field, value)))
        position = match.end()
    return tokens


def lookup(obj: Any, path: str) -> Any:
    """The value at path; a missing key or index raises JsonPathError naming it."""
    current = obj
    for kind, token in parse(path):
        if kind == "key":
            if not isinstance(current, dict) or token not in current:
                raise JsonPathError(f"no field {token!r} at {path!r}")
            current = current[token]
        elif kind == "index":
            if not isinstance(current, list) or token >= len(current):
                raise JsonPathError(f"no item [{token}] at {path!r}")
            current = current[token]
        else:
            field, value = token
            found = [i for i in current or [] if isinstance(i, dict) and str(i.get(field)) == value]
            if not found:
                raise JsonPathError(f"no item with {field}={value} at {path!r}")
            current = found[0]
    return current


def assign(obj: Any, path: str, value: Any) -> None:
    """Set the value at path, creating missing mappings on the way."""
    tokens = parse(path)
    current = obj
    for (kind, token), (next_kind, _) in zip(tokens, tokens[1:] + [("end", None)]):
        last = next_kind == "end"
        if kind == "key":
            if last:
                current[token] = value
                return
            current = current.setdefault(token, [] if next_kind != "key" else {})
        elif kind == "index":
            if last:
                current[token] = value
                return
            current = current[token]
        else:
            field, wanted = token
            found = [i for i in current if isinstance(i, dict) and str(i.get(field)) == wanted]
            if not found:
                raise JsonPathError(f"no item with {field}={wanted} in {path!r}")
            if last:
                current[current.index(found[0])] = value
                return
            current = found[0]
