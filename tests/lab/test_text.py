"""printable(): text from files cka-lab did not write, safe for a terminal."""

from __future__ import annotations

import pytest

from lab.text import control_character, printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text", "plain text"),
        ("\x1b[2J\x1b[31mred\x1b[0m", "red"),
        ("a\x1b]0;new window title\x07b", "ab"),
        ("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
        ("a\x9b31mb", "ab"),
        ("a\x9d0;title\x9cb", "ab"),
        ("a\x1bPdevice control\x1b\\b", "ab"),
        ("bell\x07 backspace\x08 cr\r del\x7f nul\x00", "bell backspace cr del nul"),
        ("right\u202eto left\u2066", "rightto left"),
        ("keeps\ttabs\nand newlines", "keeps\ttabs\nand newlines"),
        ("umlauts äöü and ✔ stay", "umlauts äöü and ✔ stay"),
        ("lone escape at the end\x1b", "lone escape at the end"),
    ],
)
def test_printable_strips_sequences_and_controls(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_printable_on_one_line_drops_newlines_and_tabs() -> None:
    assert printable("a\nb\tc", newlines=False) == "abc"


def test_control_character_names_the_first_one() -> None:
    assert control_character("fine\ttext\n") is None
    assert control_character("x\x1b[31m") == "\\x1b"
    assert control_character("x\x9b") == "\\x9b"
    assert control_character("x\u202e") == "\\u202e"
