"""The command line's door is bounded like the service's: a size cap on files and standard
input, and the parsing limits of contraxis.documents."""

from __future__ import annotations

import io
import json
import sys

import pytest

from contraxis.errors import CaseError
from contraxis.io import detect
from contraxis.io.detect import iter_inputs, load_input


def test_a_file_over_the_cap_is_refused(tmp_path, monkeypatch):
    """Check that a file larger than MAX_INPUT_BYTES is refused without being read whole."""
    monkeypatch.setattr(detect, "MAX_INPUT_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"id": "x" * 2000}), encoding="utf-8")
    with pytest.raises(CaseError, match=r"big.json: is larger than"):
        load_input(path)
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"age": 30}), encoding="utf-8")
    assert load_input(small).case.age == 30


def test_standard_input_over_the_cap_is_refused(monkeypatch):
    """Check that `assess -` reads at most MAX_INPUT_BYTES of standard input."""
    monkeypatch.setattr(detect, "MAX_INPUT_BYTES", 1000)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"age: 30\n" + b"#" * 5000)))
    with pytest.raises(CaseError, match=r"<stdin>: is larger than"):
        load_input("-")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"age: 30\n")))
    assert load_input("-").case.age == 30


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
        (b'{"case": ' * 100 + b"{}" + b"}" * 100, "nested too deeply"),
        (b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
         b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
         b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nid: *e\n", "aliases repeat"),
        (b'{"age": 30, "age": 31}', "the key 'age' is given twice"),
        (b"age: 30\nage: 31\n", "the key 'age' is given twice"),
        (b'{"age": 30}\n{"age": 31, "age": 32}\n', "the key 'age' is given twice"),
    ],
    ids=["deep-flow", "deep-json", "aliases", "duplicate-json", "duplicate-yaml", "duplicate-jsonl"],
)
def test_raw_input_is_parsed_with_the_limits(raw, words):
    """Check that bytes read by the command line go through the bounded parsers."""
    with pytest.raises(CaseError, match=words):
        list(iter_inputs(raw, source="x"))
