"""Text from files cka-lab did not write, made safe to print on a terminal.

A scenario file (or its name) can hold escape sequences that clear the screen, retitle the
window, hide text or forge output. Everything the CLI prints that comes from such a file goes
through `printable`."""

from __future__ import annotations

import re

# ANSI/ECMA-48 sequences: CSI (ESC [ or the C1 byte U+009B) with parameters and a final byte;
# OSC, DCS, SOS, PM and APC strings up to their terminator (BEL or ST); other two-byte ESC
# sequences.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)

# Bidirectional formatting characters can make text read differently from what it is.
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"

# C0 controls but tab and newline, DEL, C1 controls, bidi controls.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + BIDI_CONTROLS + "]")
_CONTROLS_ALL = re.compile("[\x00-\x1f\x7f-\x9f" + BIDI_CONTROLS + "]")


def printable(text: str, *, newlines: bool = True) -> str:
    """text without escape sequences and control characters. Newline and tab are kept unless
    newlines is false (for one-line values such as file names)."""
    text = _ESCAPES.sub("", text)
    return (_CONTROLS if newlines else _CONTROLS_ALL).sub("", text)


def control_character(text: str) -> str | None:
    """The first character of text that `printable` would remove (newline and tab are fine),
    written as an escape such as \\x1b; None when there is none."""
    match = _CONTROLS.search(text)
    if match is None:
        return None
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
