"""The game day screen. While it runs: the live service level (bar charts of the share of good
requests and of the p95 latency, one bar per 10 s), the error budget left, how many incidents are
open and closed (never what they are), the runner's progress lines, and the kubectl and node
shells to repair with. At the end: the report, which names every fault. Quitting while it runs
stops the injector first, and says so."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Markdown, Static

from lab.gameday.report import spent, status_line
from lab.timefmt import duration
from tui.modals import ConfirmModal

LOG_LINES = 8
ROWS = 3
EIGHTHS = " ▁▂▃▄▅▆▇█"


def bars(values: list[float], top: float, width: int, rows: int = ROWS) -> str:
    """A bar chart on a fixed scale (0 to `top`), one column per value, the newest at the right:
    unlike a sparkline scaled to its own minimum and maximum, a steady 100 % draws full bars
    and a dip to 0 an empty one. Every column keeps a floor mark, so the time axis shows."""
    shown = values[-width:] if width > 0 else []
    heights = [round(max(0.0, min(1.0, v / top)) * rows * 8) if top > 0 else 0 for v in shown]
    lines = []
    for row in range(rows - 1, -1, -1):
        line = ""
        for height in heights:
            fill = max(0, min(8, height - row * 8))
            line += EIGHTHS[fill] if fill or row else "▁"
        lines.append(line)
    return "\n".join(lines)


class GameDayScreen(Screen):
    BINDINGS = [
        Binding("k", "shell", "kubectl shell"),
        Binding("n", "node_shell", "Node shell"),
        Binding("q", "leave", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.ended_shown = False

    @property
    def live(self):
        return self.app.gameday

    def compose(self) -> ComposeResult:
        with Horizontal(id="session-bar"):
            yield Static("", id="gameday-title")
            yield Static("", id="gameday-clock")
        with VerticalScroll(id="gameday-body"):
            yield Static("", id="gameday-status")
            yield Static("Good requests, per 10 s (bar full at 100 %)", classes="gameday-label")
            yield Static("", id="gameday-success", classes="gameday-chart")
            yield Static("", id="gameday-latency-label", classes="gameday-label")
            yield Static("", id="gameday-latency", classes="gameday-chart")
            yield Static("", id="gameday-incidents")
            yield Static("", id="gameday-log")
            yield Markdown("", id="gameday-report")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_live()
        self.set_interval(1, self.refresh_live)

    def refresh_live(self) -> None:
        if self.ended_shown:
            return  # the end is drawn once: nothing changes after it
        live = self.live
        state = live.state
        now = self.app.clock()
        title = f"Game day · seed {live.seed} · {len(live.injections)} fault(s), unannounced"
        self.query_one("#gameday-title", Static).update(title)
        if state is not None and state.started_at is not None:
            clock = f"{duration((state.ended_at or now) - state.started_at)} of {duration(live.timing.minutes * 60)}"
        else:
            clock = "preparing"
        self.query_one("#gameday-clock", Static).update(clock)
        if state is not None:
            self.query_one("#gameday-status", Static).update(status_line(state, live.objective, state.ended_at or now))
            width = max(10, self.query_one("#gameday-success", Static).size.width or 100)
            ceiling = 2 * live.objective.latency
            self.query_one("#gameday-success", Static).update(bars([p.success for p in state.points], 1.0, width))
            self.query_one("#gameday-latency-label", Static).update(
                f"p95 latency, per 10 s (bar full at {ceiling:g} s; the objective allows {live.objective.latency:g} s)")
            self.query_one("#gameday-latency", Static).update(bars([p.p95 for p in state.points], ceiling, width))
            opened = len(state.incidents)
            still = sum(i.open for i in state.incidents)
            left = spent(state, live.objective).left
            self.query_one("#gameday-incidents", Static).update(
                f"Incidents: {still} open, {opened - still} closed · error budget left {100 * left:.1f} %")
        self.query_one("#gameday-log", Static).update("\n".join(live.lines[-LOG_LINES:]))
        if live.done and not self.ended_shown:
            self.show_end()

    def show_end(self) -> None:
        self.ended_shown = True
        live = self.live
        if live.error is not None:
            self.app.show_error(live.error, hint="`cka-lab reset` undoes every fault the game day put in.")
            return
        report = live.report()
        if report:
            self.query_one("#gameday-report", Markdown).update(report)
        self.query_one("#gameday-log", Static).update(
            "The game day has ended: no more faults are injected. `cka-lab reset` undoes those in place.")

    def action_shell(self) -> None:
        self.app.open_kubectl_shell()

    def action_node_shell(self) -> None:
        self.app.choose_node_shell()

    def action_leave(self) -> None:
        if self.live.done:
            self.app.exit(message=self.app.exit_message())
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.live.stop()
                self.app.exit(message="The game day was stopped: no more faults are injected. "
                                      "`cka-lab reset` undoes those in place.")

        self.app.push_screen(ConfirmModal(
            "Stop the game day?",
            "The injector stops now and the game day ends with what was measured so far; the faults in place "
            "stay until `cka-lab reset`.",
            confirm_label="Stop",
        ), answered)
