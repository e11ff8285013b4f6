"""Errors a trainee or instructor can act on: each carries a short title (for a modal or a heading)
and, where it helps, the command that failed, ready to paste."""

from __future__ import annotations

import shlex
from collections.abc import Sequence


class LabError(Exception):
    """An expected failure: shown as `title: message`, never as a traceback."""

    title = "cka-lab error"

    def __init__(self, message: str, *, title: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        if title:
            self.title = title
        self.hint = hint

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text += f"\n{self.hint}"
        return text


class CommandError(LabError):
    """A command exited non-zero; the message holds the command line and its output."""

    title = "Command failed"

    def __init__(self, argv: Sequence[str], returncode: int, output: str, *, context: str = ""):
        self.argv = list(argv)
        self.returncode = returncode
        self.output = output
        head = f"{context}: " if context else ""
        tail = output.strip()
        if len(tail) > 4000:
            tail = "…" + tail[-4000:]
        message = f"{head}command exited with {returncode}:\n  {shlex.join(self.argv)}"
        if tail:
            message += f"\n{tail}"
        super().__init__(message)


class ScenarioError(LabError):
    """A scenario file is invalid; the message lists every problem with file and line."""

    title = "Invalid scenario"


class ClusterError(LabError):
    title = "Cluster problem"


class SafetyError(LabError):
    title = "Refused for safety"


class TimedOut(LabError):
    """A bounded wait ran out: the message says what did not happen and the last thing seen."""

    title = "Timed out"


class LabBusy(LabError):
    """Another cka-lab process (or thread) holds the state lock."""

    title = "cka-lab is busy"


class StateError(LabError):
    """A state file (session, undo ledger) is unreadable or belongs to another cluster."""

    title = "Lab state problem"


class UndoFailed(LabError):
    """Undoing a recorded change did not bring back the recorded state."""

    title = "Undo failed"


class StartCancelled(LabError):
    title = "Start cancelled"


class SelftestFailed(LabError):
    title = "Selftest failed"


class ApiUnreachable(ClusterError):
    """The lab's API server did not answer in time (or refused, or closed the connection)."""

    title = "API server not answering"
