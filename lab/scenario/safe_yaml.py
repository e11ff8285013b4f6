"""Reading scenario files cka-lab did not write: bounded, strict, and never hanging.

A scenario file comes from an instructor, a course repository or a download, so reading one must
survive anything:

- only regular files (a symlink to one is fine) of at most MAX_BYTES, checked before reading and
  opened non-blocking, so a FIFO or a device named x.yaml cannot hang the reader;
- UTF-8 only (a UTF-8 byte order mark is accepted); another encoding is an error naming the line
  of the first byte that is not UTF-8;
- no control characters but tab and line breaks, neither in the file nor in its strings (YAML
  escapes such as "\\e" included): they would reach the trainee's terminal;
- YAML: anchors and aliases are allowed (the catalog shares tasks and checks between variants
  with them), but the data they expand to is bounded: at most MAX_NODES values and keys and
  MAX_CHARS characters of strings in all, counted while composing, so a "billion laughs" file
  fails at once; an alias inside its own anchor (a recursive structure) is an error; nesting is
  limited to MAX_DEPTH levels (aliases counted) before any recursion gets deep; a repeated key in
  a mapping is an error at the line of the second one; merge keys (<<) and tags other than the
  plain YAML types are errors.

Every problem is a YamlProblem with the line and the location in the data."""

from __future__ import annotations

import codecs
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.events import AliasEvent, MappingStartEvent, ScalarEvent, SequenceStartEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from lab.text import BIDI_CONTROLS

MAX_BYTES = 256 * 1024
"""Largest scenario file; the biggest of the catalog is about 14 KiB."""
MAX_DEPTH = 64
"""Deepest nesting of lists and mappings (Kubernetes objects in setup need about 15)."""
MAX_NODES = 10_000
"""Most values and keys after aliases are expanded (the catalog's largest has about 700)."""
MAX_CHARS = 1024 * 1024
"""Most characters of strings after aliases are expanded."""

Loc = tuple[Any, ...]

_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp")}
_FILE_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f" + BIDI_CONTROLS + "]")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + BIDI_CONTROLS + "]")


class YamlProblem(Exception):
    """One problem of a file: its line (1-based), where in the data, and what is wrong."""

    def __init__(self, line: int, message: str, loc: Loc = ()):
        super().__init__(message)
        self.line = line
        self.message = message
        self.loc = loc


def _tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# --- the file --------------------------------------------------------------------------------


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_bytes(path: Path) -> bytes:
    """The bytes of a regular file of at most MAX_BYTES, without ever blocking on a FIFO or device."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise YamlProblem(1, f"cannot read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise YamlProblem(1, f"not a regular file ({_kind(info.st_mode)})")
    if info.st_size > MAX_BYTES:
        raise YamlProblem(1, f"file too large: {info.st_size} bytes; scenario files are limited to {MAX_BYTES} bytes")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise YamlProblem(1, f"cannot read: {exc.strerror}") from None
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):  # replaced between stat and open
            raise YamlProblem(1, f"not a regular file ({_kind(opened.st_mode)})")
        chunks: list[bytes] = []
        size = 0
        while size <= MAX_BYTES:
            chunk = os.read(fd, MAX_BYTES + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise YamlProblem(1, f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if size > MAX_BYTES:
        raise YamlProblem(1, f"file too large: more than {MAX_BYTES} bytes")
    return b"".join(chunks)


def decode(data: bytes) -> str:
    """UTF-8 text (a leading byte order mark dropped); other encodings are errors with the line."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if data.startswith(bom):
            raise YamlProblem(1, f"the file is {name} encoded; save it as UTF-8")
    data = data.removeprefix(codecs.BOM_UTF8)
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise YamlProblem(line, "NUL byte in the file (UTF-16 or a binary file?); save it as UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(
            line, f"not UTF-8: byte 0x{data[exc.start]:02x} at column {column} (Latin-1?); save the file as UTF-8"
        ) from None


def read_text(path: Path) -> str:
    return decode(read_bytes(path))


# --- composing, with limits --------------------------------------------------------------------


class LimitError(yaml.MarkedYAMLError):
    """A limit of scenario files was exceeded (reported without the "invalid YAML" prefix)."""


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, composing with counts: expanded size, depth and open anchors."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._open: set[str] = set()
        self._size: dict[int, tuple[int, int, int]] = {}
        """id(node) -> (values and keys, string characters, height) once expanded."""
        self._nodes = 0
        self._chars = 0

    def _count(self, nodes: int, chars: int, mark: Any, what: str) -> None:
        self._nodes += nodes
        self._chars += chars
        if self._nodes > MAX_NODES:
            raise LimitError(problem=f"too many values: more than {MAX_NODES} {what}", problem_mark=mark)
        if self._chars > MAX_CHARS:
            raise LimitError(problem=f"too much text: more than {MAX_CHARS} characters {what}", problem_mark=mark)

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self._open:
                raise LimitError(
                    problem=f"recursive alias *{event.anchor}: it is inside its own anchor", problem_mark=event.start_mark
                )
            node = super().compose_node(parent, index)  # reports an undefined alias
            nodes, chars, height = self._size[id(node)]
            self._count(nodes, chars, event.start_mark, f"once aliases are expanded (at *{event.anchor})")
            if self._depth + height > MAX_DEPTH:
                raise LimitError(
                    problem=f"nested deeper than {MAX_DEPTH} levels once *{event.anchor} is expanded",
                    problem_mark=event.start_mark,
                )
            return node
        collection = isinstance(event, SequenceStartEvent | MappingStartEvent)
        if collection and self._depth >= MAX_DEPTH:
            raise LimitError(problem=f"nested deeper than {MAX_DEPTH} levels", problem_mark=event.start_mark)
        self._count(1, len(event.value) if isinstance(event, ScalarEvent) else 0, event.start_mark, "in the file")
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self._open.add(anchor)
        self._depth += collection
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= collection
            self._open.discard(anchor)  # type: ignore[arg-type]
        self._size[id(node)] = self._measure(node)
        return node

    def _measure(self, node: Node) -> tuple[int, int, int]:
        if isinstance(node, ScalarNode):
            return 1, len(node.value), 0
        children = [c for pair in node.value for c in pair] if isinstance(node, MappingNode) else node.value
        sizes = [self._size[id(child)] for child in children]
        return (
            1 + sum(s[0] for s in sizes),
            sum(s[1] for s in sizes),
            1 + max((s[2] for s in sizes), default=0),
        )


def compose(text: str) -> Node | None:
    """The YAML node tree of one document (None for an empty one), within the limits."""
    bad = _FILE_CONTROLS.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        raise YamlProblem(line, f"control character {_escape(bad.group())} not allowed")
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    except LimitError as exc:
        raise YamlProblem(exc.problem_mark.line + 1, str(exc.problem)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = f"{exc.problem} ({exc.context})" if exc.problem and exc.context else exc.problem or exc.context
        raise YamlProblem(mark.line + 1 if mark else 1, f"invalid YAML: {detail}") from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        raise YamlProblem(line, f"invalid YAML: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise YamlProblem(1, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem(1, f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


# --- constructing Python data, with the line of every value ------------------------------------


class _Builder:
    def __init__(self) -> None:
        self.lines: dict[Loc, int] = {}
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: Node, loc: Loc) -> Any:
        line = node.start_mark.line + 1
        self.lines[loc] = line
        if isinstance(node, MappingNode):
            if node.tag != _TAG + "map":
                raise YamlProblem(line, f"tag {_tag(node.tag)} not allowed on a mapping", loc)
            data: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node, loc)
                key_line = key_node.start_mark.line + 1
                if key in data:
                    first = self.lines.get((*loc, key, "__key__"), line)
                    raise YamlProblem(key_line, f"duplicate key {key!r} (first at line {first})", (*loc, key))
                self.lines[(*loc, key, "__key__")] = key_line
                data[key] = self.build(value_node, (*loc, key))
            return data
        if isinstance(node, SequenceNode):
            if node.tag != _TAG + "seq":
                raise YamlProblem(line, f"tag {_tag(node.tag)} not allowed on a list", loc)
            return [self.build(item, (*loc, i)) for i, item in enumerate(node.value)]
        return self.scalar(node, loc)

    def _key(self, node: Node, loc: Loc) -> Any:
        line = node.start_mark.line + 1
        if node.tag == _TAG + "merge":
            raise YamlProblem(line, "merge keys (<<) are not supported; alias the whole value instead", loc)
        if not isinstance(node, ScalarNode):
            raise YamlProblem(line, "a mapping key must be a plain value, not a list or mapping", loc)
        return self.scalar(node, loc)

    def scalar(self, node: Node, loc: Loc) -> Any:
        line = node.start_mark.line + 1
        if node.tag not in _SCALAR_TAGS:
            raise YamlProblem(line, f"tag {_tag(node.tag)} not allowed (plain strings, numbers, booleans and null only)", loc)
        if node.tag == _TAG + "str":
            bad = _CONTROLS.search(node.value)
            if bad:
                raise YamlProblem(line, f"control character {_escape(bad.group())} not allowed", loc)
            return node.value
        try:
            return self.constructor.construct_object(node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            detail = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            raise YamlProblem(line, f"cannot read {node.value[:40]!r} as {node.tag.removeprefix(_TAG)}: {detail}", loc) from None


def load(text: str) -> tuple[Any, dict[Loc, int]]:
    """(data, lines) of one YAML document: lines maps each location in the data to its line, and
    (location, key, "__key__") to the line of a mapping key."""
    node = compose(text)
    if node is None:
        return None, {}
    builder = _Builder()
    return builder.build(node, ()), builder.lines
