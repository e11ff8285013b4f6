"""The real program in a real terminal: `cka-lab start` opens the session TUI in tmux, the
trainee fixes step 1 from the TUI's shell key, and the TUI notices and moves on to step 2.

Needs the real kind cluster (the session fixture `lab_cluster`); the tmux server runs on its own
socket so a tmux the developer already uses is never touched."""

from __future__ import annotations

import re

import pytest

from tests.terminal import CKA_LAB, Terminal, back_at_the_prompt

pytestmark = pytest.mark.cluster
FIX_STEP_ONE = (
    f"{CKA_LAB} ssh control-plane -- sed -i 's/- kube-schedulerrrr/- kube-scheduler/' "
    "/etc/kubernetes/manifests/kube-scheduler.yaml"
)


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
