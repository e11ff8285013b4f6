"""A real terminal for end-to-end tests: one tmux session of fixed size on its own socket (a
tmux the developer already uses is never touched), driven by send-keys, read by capture-pane."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable

import itertools

WIDTH, HEIGHT = 120, 40
_sockets = itertools.count()
CKA_LAB = f"{shlex.quote(sys.executable)} -m lab"  # the installed `cka-lab` command, same interpreter


class Terminal:
    """One tmux session of fixed size, driven by send-keys and read by capture-pane."""

    def __init__(self, env: dict[str, str]):
        self.socket = f"cka-lab-e2e-{os.getpid()}-{next(_sockets)}"
        self.target = "e2e"
        # -e puts the lab's variables into the session even if tmux keeps its own environment
        env_flags = [flag for key, value in env.items() for flag in ("-e", f"{key}={value}")]
        self.tmux("new-session", "-d", "-s", self.target, "-x", str(WIDTH), "-y", str(HEIGHT), *env_flags,
                  "bash --norc --noprofile")
        self.tmux("set-option", "-t", self.target, "remain-on-exit", "on")
        self.send('PS1="e2e$ "', "Enter")

    def tmux(self, *args: str) -> str:
        result = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30,
                                env={**os.environ, "TERM": "xterm-256color"})
        if result.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {result.stderr.strip()}")
        return result.stdout

    def send(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.target, *keys)

    def type_line(self, line: str) -> None:
        self.tmux("send-keys", "-t", self.target, "-l", line)
        self.send("Enter")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", self.target)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float, what: str, seen: list[str] | None = None) -> str:
        """Poll the screen until predicate holds; every capture is kept in `seen` if given."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if seen is not None:
                seen.append(screen)
            if predicate(screen):
                return screen
            time.sleep(0.3)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; the screen shows:\n{screen}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30)


def back_at_the_prompt(screen: str) -> bool:
    lines = [line for line in screen.splitlines() if line.strip()]
    return bool(lines) and lines[-1].startswith("e2e$")
