"""Parsing JSON and YAML documents with bounded work, and showing a value in a message.

Every door reads its input through these functions (``contraxis assess``, ``contraxis
differential``, ``POST /assess`` and the other routes), so that a small input cannot make
large work:

- **Nesting** deeper than :data:`MAX_DEPTH` objects and lists is refused, in JSON before it
  is parsed and in YAML while it is composed (never by running out of stack).
- **YAML aliases** are counted before anything is built: the nodes that aliases repeat,
  once expanded, may number at most :data:`MAX_ALIAS_NODES` in all, and an alias may not
  refer to its own ancestor ("billion laughs" and recursive documents are refused in
  microseconds, whatever they would expand to).
- **Duplicate keys** are refused, naming the key, in JSON and YAML alike (the last one does
  not silently win).

Refusals are :class:`~contraxis.errors.CaseError` rows naming where, what and what is allowed.
:func:`shown` renders a value for such a message: short, in the input's own notation (JSON
or YAML words, ISO dates), never a Python ``repr`` of a date, a byte string or a class.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import CollectionNode, MappingNode, Node, SequenceNode
from yaml.resolver import Resolver

from .errors import CaseError, Problem

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_KEY_SHOWN",
    "kind_of",
    "parse_document",
    "parse_json",
    "parse_yaml",
    "shown",
]

MAX_DEPTH = 64
"""Deepest nesting of objects and lists accepted (real inputs: a FHIR Bundle nests about 12)."""

MAX_ALIAS_NODES = 10_000
"""Most nodes YAML aliases may repeat in one document, counted as expanded."""

MAX_KEY_SHOWN = 40
"""Longest key named in a message (characters)."""

SHOWN = 60
"""Longest value shown in a message (characters)."""


# --- showing a value ----------------------------------------------------------------------


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 256 else "?" for ch in text)


def _render(value: Any, budget: int) -> str:
    """A JSON-like rendering of ``value``, stopping once ``budget`` characters are written."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) < 10**40 else "a number of more than 40 digits"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, str):
        return "'" + _printable(value[: budget + 1]) + "'"
    if isinstance(value, (dt.date, dt.time)):  # datetime is a date
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return f"binary data ({len(value)} bytes)"
    if isinstance(value, Mapping):
        parts: list[str] = []
        used = 2
        for key, item in value.items():
            if used > budget:
                parts.append("...")
                break
            part = f"{_render(key, budget - used)}: {_render(item, budget - used)}"
            parts.append(part)
            used += len(part) + 2
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, (list, tuple, set, frozenset)):
        parts = []
        used = 2
        for item in value:
            if used > budget:
                parts.append("...")
                break
            part = _render(item, budget - used)
            parts.append(part)
            used += len(part) + 2
        return "[" + ", ".join(parts) + "]"
    return f"a value of an unexpected kind ({type(value).__name__.lower()})"


def shown(value: Any, limit: int = SHOWN) -> str:
    """A short printable rendering of an input value for an error message.

    Strings are quoted (``'chronic'``), numbers, booleans and nulls written as in JSON
    (``true``, ``null``), dates in ISO 8601, lists and objects as JSON-like excerpts; control
    characters are escaped (``\\x00``). The work is bounded by ``limit``, whatever the size
    of the value (a list of a million items costs as much as a short one).

    Parameters
    ----------
    value : Any
        Any parsed JSON or YAML value.
    limit : int
        The most characters returned (an ellipsis ends a longer rendering).

    Returns
    -------
    str
        At most ``limit`` characters.
    """
    text = _render(value, limit)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def kind_of(value: Any) -> str:
    """What a parsed value is, in the words of JSON: ``an object``, ``a list``, ``text``,
    ``a number``, ``true or false``, ``null`` (a date, for a YAML date), never a Python type."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (dt.date, dt.time)):
        return "a date" if isinstance(value, dt.date) else "a time"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    return "a value of an unexpected kind"


def _key(key: Any) -> str:
    return shown(key if isinstance(key, str) else _render(key, MAX_KEY_SHOWN), MAX_KEY_SHOWN)


# --- JSON ---------------------------------------------------------------------------------

_CHUNK = 1 << 20


def json_depth_exceeds(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests objects and lists deeper than ``limit`` (brackets in strings
    do not count).

    Linear, vectorised and without building the document (about 5 ms a MiB, in chunks of a
    MiB): escapes are dropped, so that every quote left opens or closes a string, and the
    brackets outside strings are counted. Malformed text is left to the parser to name.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    import numpy as np

    text = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    quotes = depth = 0
    for start in range(0, len(text), _CHUNK):
        codes = np.frombuffer(text, dtype=np.uint8, count=min(_CHUNK, len(text) - start), offset=start)
        seen = np.cumsum(codes == ord('"'), dtype=np.int64) + quotes
        outside = (seen & 1) == 0
        opens = ((codes == ord("[")) | (codes == ord("{"))) & outside
        closes = ((codes == ord("]")) | (codes == ord("}"))) & outside
        levels = np.cumsum(opens.astype(np.int64) - closes, dtype=np.int64) + depth
        if int(levels.max()) > limit:
            return True
        quotes, depth = int(seen[-1]), int(levels[-1])
    return False


_TOO_MANY_DIGITS = "a number has more than 4300 digits"


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return data


def _duplicate(key: Any) -> Problem:
    return Problem("", f"the key {_key(key)} is given twice: each key may appear once in an object")


def parse_json(
    data: bytes | str, *, source: str | None = None, max_depth: int = MAX_DEPTH, syntax: str = "JSON"
) -> Any:
    """Parse one JSON document, refusing duplicate keys and nesting deeper than ``max_depth``.

    Parameters
    ----------
    data : bytes or str
        The text (bytes are read as UTF-8, with or without a byte-order mark).
    source : str, optional
        Names the input in error messages.
    max_depth : int
        The deepest nesting of objects and lists accepted.
    syntax : str
        What the text was expected to be, in messages ("is not valid JSON: ...").

    Returns
    -------
    Any
        The parsed document (objects are dicts).

    Raises
    ------
    CaseError
        Malformed JSON (with line and column), text that is not UTF-8, a key given twice in
        one object (naming it), or nesting too deep.
    """
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if json_depth_exceeds(raw, max_depth):
        raise CaseError([Problem("", f"is nested too deeply: more than {max_depth} levels (allowed: {max_depth})")],
                        source=source)
    try:
        return json.loads(data, object_pairs_hook=_unique_pairs)
    except _DuplicateKey as error:
        raise CaseError([_duplicate(error.key)], source=source) from None
    except UnicodeDecodeError:
        raise CaseError([Problem("", "is not UTF-8 text")], source=source) from None
    except json.JSONDecodeError as error:
        raise CaseError(
            [Problem("", f"is not valid {syntax}: {error.msg} (line {error.lineno}, column {error.colno})")],
            source=source,
        ) from None
    except ValueError:  # the only other: a number of more than 4300 digits
        raise CaseError([Problem("", f"is not valid {syntax}: {_TOO_MANY_DIGITS}")], source=source) from None
    except RecursionError:
        raise CaseError([Problem("", f"is nested too deeply (allowed: {max_depth} levels)")], source=source) from None


# --- YAML ---------------------------------------------------------------------------------

try:  # libyaml's event parser when PyYAML was built with it; the composition below is ours
    from yaml._yaml import CParser as _Parser  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser):  # type: ignore[no-redef]
        def __init__(self, stream: str) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)


class _Refused(yaml.YAMLError):
    """A document refused by a limit or a duplicate key (the message is the problem)."""

    def __init__(self, message: str, mark: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def _at(mark: Any) -> str:
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


class _GuardedComposer(Composer):
    """PyYAML's composer, counting nesting depth and the nodes aliases repeat."""

    max_depth = MAX_DEPTH
    max_alias_nodes = MAX_ALIAS_NODES

    def __init__(self) -> None:
        super().__init__()
        self._depth = 0
        self._repeated = 0
        self._open: set[int] = set()  # collection nodes being composed (their ids)
        self._sizes: dict[int, tuple[int, int]] = {}  # node id -> (nodes once expanded, height)

    def _size(self, node: Node) -> tuple[int, int]:
        """How many nodes ``node`` stands for once its aliases are expanded, and its height."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if id(node) in self._open:
            raise _Refused("an alias refers to a node that contains it (a recursive document)", node.start_mark)
        if not isinstance(node, CollectionNode):
            size = (1, 0)
        else:
            children = (
                [part for pair in node.value for part in pair] if isinstance(node, MappingNode) else node.value
            )
            count, height = 1, 0
            for child in children:
                child_count, child_height = self._size(child)
                count += child_count
                height = max(height, child_height + 1)
                if count > self.max_alias_nodes:
                    break  # already too many: the caller refuses
            size = (count, height)
        self._sizes[id(node)] = size
        return size

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None:
                count, height = self._size(node)
                self._repeated += count
                if self._repeated > self.max_alias_nodes:
                    raise _Refused(
                        f"its aliases repeat more than {self.max_alias_nodes} nodes "
                        f"(allowed: {self.max_alias_nodes} in all)",
                        event.start_mark,
                    )
                if self._depth + height + 1 > self.max_depth:
                    raise _Refused(
                        f"is nested too deeply once its aliases are expanded: more than {self.max_depth} levels "
                        f"(allowed: {self.max_depth})",
                        event.start_mark,
                    )
            return super().compose_node(parent, index)
        event = self.peek_event()
        collection = isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent))
        if collection:
            self._depth += 1
            if self._depth > self.max_depth:
                raise _Refused(f"is nested too deeply: more than {self.max_depth} levels (allowed: {self.max_depth})",
                               event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            if collection:
                self._depth -= 1

    def _close(self, anchor: str | None) -> None:
        node = self.anchors.get(anchor) if anchor is not None else None
        if node is not None:
            self._open.discard(id(node))

    def compose_sequence_node(self, anchor: str | None) -> SequenceNode:
        try:
            return super().compose_sequence_node(anchor)
        finally:
            self._close(anchor)

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        try:
            return super().compose_mapping_node(anchor)
        finally:
            self._close(anchor)


class _OpenAnchors(dict):  # type: ignore[type-arg]
    """The composer's anchors, marking each anchored collection as open until composed."""

    def __init__(self, opened: set[int]) -> None:
        super().__init__()
        self._opened = opened

    def __setitem__(self, anchor: str, node: Node) -> None:
        if isinstance(node, CollectionNode):
            self._opened.add(id(node))
        super().__setitem__(anchor, node)


class _GuardedConstructor(SafeConstructor):
    """The safe constructor, refusing a key given twice in one mapping."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # type: ignore[override]
        if isinstance(node, MappingNode):
            seen: set[Any] = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:
                    raise ConstructorError(
                        "while constructing a mapping", node.start_mark, "found an unhashable key", key_node.start_mark
                    ) from None
                if duplicate:
                    raise _Refused(
                        f"the key {_key(key)} is given twice: each key may appear once in a mapping",
                        key_node.start_mark,
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _GuardedLoader(_GuardedComposer, _Parser, _GuardedConstructor, Resolver):
    """A safe YAML loader whose composition is bounded (see the module's description)."""

    def __init__(self, stream: str) -> None:
        _Parser.__init__(self, stream)
        _GuardedComposer.__init__(self)
        _GuardedConstructor.__init__(self)
        Resolver.__init__(self)
        self.anchors = _OpenAnchors(self._open)

    def compose_document(self) -> Node:
        node = super().compose_document()
        self.anchors = _OpenAnchors(self._open)
        return node


def _yaml_problem(error: yaml.YAMLError, syntax: str, max_depth: int) -> str:
    if isinstance(error, _Refused):
        return error.message + _at(error.mark)
    problem = getattr(error, "problem", None)
    mark = getattr(error, "problem_mark", None)
    if problem and "maximum nesting depth" in str(problem):  # libyaml's own bound, met first
        return f"is nested too deeply: more than {max_depth} levels (allowed: {max_depth}){_at(mark)}"
    if problem:
        context = getattr(error, "context", None)
        text = f"{context}: {problem}" if context else str(problem)
        return f"is not valid {syntax}: {_printable(text[:160])}{_at(mark)}"
    first = str(error).splitlines()[0] if str(error) else "malformed"
    return f"is not valid {syntax}: {_printable(first[:160])}"


def parse_yaml(
    text: str,
    *,
    source: str | None = None,
    max_depth: int = MAX_DEPTH,
    max_alias_nodes: int = MAX_ALIAS_NODES,
    syntax: str = "YAML",
) -> Any:
    """Parse one YAML document with the safe loader, bounded.

    Parameters
    ----------
    text : str
        The YAML text.
    source : str, optional
        Names the input in error messages.
    max_depth : int
        The deepest nesting of mappings and lists accepted (aliases expanded).
    max_alias_nodes : int
        The most nodes aliases may repeat, once expanded, in all.
    syntax : str
        What the text was expected to be, in messages ("is not valid YAML: ...").

    Returns
    -------
    Any
        The parsed document (None for an empty one).

    Raises
    ------
    CaseError
        Malformed YAML (with line and column), several documents, a key given twice in one
        mapping (naming it), nesting too deep, aliases repeating too much or referring to
        their own ancestor.
    """
    loader = _GuardedLoader(text)
    loader.max_depth = max_depth
    loader.max_alias_nodes = max_alias_nodes
    try:
        return loader.get_single_data()
    except yaml.YAMLError as error:
        raise CaseError([Problem("", _yaml_problem(error, syntax, max_depth))], source=source) from None
    except ValueError:  # the only other: a number of more than 4300 digits
        raise CaseError([Problem("", f"is not valid {syntax}: {_TOO_MANY_DIGITS}")], source=source) from None
    except RecursionError:
        raise CaseError([Problem("", f"is nested too deeply (allowed: {max_depth} levels)")], source=source) from None
    finally:
        loader.dispose()


def parse_document(text: str, *, source: str | None = None, syntax: str | None = None) -> Any:
    """Parse JSON or YAML text: JSON when it starts with ``{`` or ``[`` (for its errors),
    else YAML; both bounded as :func:`parse_json` and :func:`parse_yaml` say (``syntax``
    names what was expected in messages, "JSON" or "YAML" by default)."""
    if text.lstrip().startswith(("{", "[")):
        return parse_json(text, source=source, syntax=syntax or "JSON")
    return parse_yaml(text, source=source, syntax=syntax or "YAML")
