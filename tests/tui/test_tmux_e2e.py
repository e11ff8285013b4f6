"""The real program in a real terminal: `cka-lab start` opens the session TUI in tmux, the
trainee fixes step 1 from the TUI's shell key, and the TUI notices and moves on to step 2.

Needs the real kind cluster (the session fixture `lab_cluster`); the tmux server runs on its own
socket so a tmux the developer already uses is never touched."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

pytestmark = pytest.mark.cluster

WIDTH, HEIGHT = 120, 40
CKA_LAB = f"{shlex.quote(sys.executable)} -m lab"  # the installed `cka-lab` command, same interpreter
FIX_STEP_ONE = (
    f"{CKA_LAB} ssh control-plane -- sed -i 's/- kube-schedulerrrr/- kube-scheduler/' "
    "/etc/kubernetes/manifests/kube-scheduler.yaml"
)


class Terminal:
    """One tmux session of fixed size, driven by send-keys and read by capture-pane."""

    def __init__(self, env: dict[str, str]):
        self.socket = f"cka-lab-e2e-{os.getpid()}"
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


@pytest.fixture
def terminal(lab_cluster, lab_env):
    term = Terminal(lab_env)
    yield term
    term.close()
    lab_cluster.reset()  # whatever happened in the terminal, leave the cluster at its baseline


def test_fix_step_one_from_the_tui_shell_and_reach_step_two(terminal: Terminal) -> None:
    terminal.type_line(f"{CKA_LAB} start control-plane-failure")
    terminal.wait_for(lambda s: "step 1 of 4" in s, timeout=900, what="the session screen at step 1")
    terminal.wait_for(lambda s: "✘" in s, timeout=120, what="step 1's checks to fail while the fault is in place")

    terminal.send("k")  # kubectl shell: the TUI suspends and hands over the terminal
    terminal.wait_for(lambda s: "type exit to return" in s, timeout=60, what="the cka-lab shell")
    terminal.type_line(f"{FIX_STEP_ONE}; echo FIX-EXIT-$?")
    # the typed line itself shows "FIX-EXIT-$?": wait for the expanded status
    terminal.wait_for(lambda s: re.search(r"FIX-EXIT-\d", s) is not None, timeout=120, what="the manifest fix to run")
    assert "FIX-EXIT-0" in terminal.screen()
    terminal.type_line("exit")

    seen: list[str] = []
    terminal.wait_for(lambda s: "step 2 of 4" in s, timeout=600, what="step 2 after the fix", seen=seen)
    # The checks turned green: either both ✔ were caught on screen, or the "solved" dialog that
    # only appears once every check passed.
    assert any("Step 1 solved" in s or s.count("✔") >= 2 for s in seen), "never saw step 1's checks pass"

    terminal.send("q")
    terminal.wait_for(back_at_the_prompt, timeout=60, what="the TUI to quit back to the shell")
    terminal.type_line(f"{CKA_LAB} reset; echo RESET-EXIT-$?")
    screen = terminal.wait_for(lambda s: re.search(r"RESET-EXIT-\d", s) is not None, timeout=600, what="cka-lab reset")
    assert "RESET-EXIT-0" in screen, screen
