"""Bounded parsing: YAML aliases and nesting capped before anything is built, duplicate keys
refused, and values shown briefly in messages."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from contraxis.documents import (
    MAX_ALIAS_NODES,
    MAX_DEPTH,
    json_depth_exceeds,
    parse_document,
    parse_json,
    parse_yaml,
    shown,
)
from contraxis.errors import CaseError

REALWORLD = Path("/work/shared/realworld")


def laughs(levels: int, *, key: str = "id", fan: int = 9) -> str:
    """A billion-laughs YAML document: each level repeats the one below ``fan`` times."""
    lines = ["defs:", "  l0: &l0 lol"]
    for level in range(1, levels):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * fan) + "]")
    lines.append(f"case:\n  {key}: *l{levels - 1}")
    return "\n".join(lines) + "\n"


def refused(parse, text, *words: str, seconds: float = 0.5) -> str:
    start = time.perf_counter()
    with pytest.raises(CaseError) as info:
        parse(text, source="x")
    assert time.perf_counter() - start < seconds
    message = str(info.value)
    assert len(message) < 300, message
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize("key", ["id", "findings"])
def test_a_billion_laughs_is_refused_before_it_is_built(key):
    """Check that nine levels of nine aliases (387 million strings) are refused at once."""
    text = laughs(10, key=key)
    assert len(text) < 600
    refused(parse_yaml, text, f"more than {MAX_ALIAS_NODES} nodes", "line")


def test_the_shared_alias_bomb_is_refused():
    """Check the real-world alias bomb input."""
    path = REALWORLD / "bad-input-dos-yaml-alias-bomb.yaml"
    if not path.exists():
        pytest.skip("no shared real-world inputs here")
    refused(parse_document, path.read_text(encoding="utf-8"), "aliases repeat")


def test_a_few_aliases_are_read():
    """Check that ordinary anchors, aliases and merge keys still read, one level below the cap."""
    assert parse_yaml("a: &a [1, 2]\nb: *a\nc: *a\n") == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}
    assert parse_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")["other"] == {"x": 1, "y": 3}
    assert parse_yaml(laughs(4, fan=9))["case"]["id"][0][0][0] == "lol"  # 9**3 = 729 strings


def test_a_recursive_alias_is_refused():
    """Check that an alias to its own ancestor is refused, not built as a cyclic structure."""
    refused(parse_yaml, "a: &a [1, *a]\n", "contains it")
    refused(parse_yaml, "a: &a {x: {y: *a}}\n", "contains it")


def test_aliases_count_towards_the_depth():
    """Check that nesting reached through aliases is counted."""
    deep = "a: &a " + "[" * 40 + "]" * 40 + "\nb: " + "[" * 30 + "*a" + "]" * 30 + "\n"
    refused(parse_yaml, deep, "nested too deeply", "aliases")


def test_yaml_nested_ten_thousand_deep_is_refused_at_once():
    """Check that a 20 kB YAML document nested 10,000 deep is refused in milliseconds."""
    block = "".join("  " * i + "- \n" for i in range(10_000))[:20_000]
    mapping = "".join(" " * i + f"k{i}:\n" for i in range(500))
    for text in (block, mapping, "[" * 10_000 + "]" * 10_000):
        refused(parse_yaml, text, "nested")
    assert parse_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None


def test_json_nesting_is_bounded_before_parsing():
    """Check JSON depth: the cap itself is read, one more is refused, brackets in strings do not count."""
    assert parse_json("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    refused(parse_json, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"more than {MAX_DEPTH} levels")
    refused(parse_json, "[" * 200_000 + "]" * 200_000, "nested")
    text = json.dumps({"note": "[" * 500 + '\\"' + "{" * 500, "x": [[1]]})
    assert parse_json(text)["x"] == [[1]]
    assert not json_depth_exceeds(text.encode())
    sneaky = '{"a": "x\\\\", "b": ' + "[" * 70 + "]" * 70 + "}"  # an escaped backslash ends the string
    assert json_depth_exceeds(sneaky.encode())


@pytest.mark.parametrize(
    "parse, text, word",
    [
        (parse_json, '{"age": 3, "sex": "male", "age": 4}', "the key 'age' is given twice"),
        (parse_json, '{"case": {"labs": [{"loinc": "1", "loinc": "2"}]}}', "the key 'loinc' is given twice"),
        (parse_yaml, "age: 3\nsex: male\nage: 4\n", "the key 'age' is given twice"),
        (parse_yaml, "case:\n  findings: [HP:0001332]\n  findings: []\n", "line 3"),
    ],
)
def test_duplicate_keys_are_refused_naming_the_key(parse, text, word):
    """Check that the last duplicate does not silently win."""
    refused(parse, text, word)


def test_syntax_errors_are_short_and_located():
    """Check malformed JSON and YAML: line and column, no Python internals."""
    message = refused(parse_json, '{"age": 3,', "is not valid JSON", "line 1")
    assert "JSONDecodeError" not in message
    refused(parse_yaml, "age: [\n", "is not valid YAML", "line 2")
    refused(parse_yaml, "a: 1\n---\nb: 2\n", "single document")
    refused(parse_json, "1" * 5000, "more than 4300 digits")
    refused(parse_json, b'{"id": "\xc3\x28"}', "not UTF-8")
    refused(parse_document, "{oops", "is not valid JSON")


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, "null"),
        (True, "true"),
        (1.5, "1.5"),
        (float("nan"), "NaN"),
        ("a\x00b", "'a\\x00b'"),
        (dt.datetime(2024, 1, 2, 3, 4), "2024-01-02T03:04:00"),
        (dt.date(2024, 1, 2), "2024-01-02"),
        (b"abc", "binary data (3 bytes)"),
        (10**50, "a number of more than 40 digits"),
    ],
    ids=["null", "bool", "float", "nan", "nul", "datetime", "date", "bytes", "bigint"],
)
def test_values_are_shown_in_the_input_notation(value, expected):
    """Check that a value is shown as written, never as a Python repr."""
    assert shown(value) == expected


def test_large_values_are_shown_briefly_and_quickly():
    """Check that a huge or deeply repeated value costs no more than a short one to show."""
    huge = [[["lol"] * 9] * 9] * 9 * 10_000
    start = time.perf_counter()
    text = shown(huge)
    assert time.perf_counter() - start < 0.01
    assert len(text) <= 60 and text.endswith("…")
    assert len(shown({"k" * 1000: "v" * 10_000})) <= 60
