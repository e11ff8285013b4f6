"""The game day screen against a scripted game day: the live service level (bar charts, budget,
incident counts) without a word of what broke, the report naming it at the end, and quitting
while it runs stopping the injector first."""

from __future__ import annotations

from tests.fakes import fixed_clock, make_app, settle

from lab.gameday.schedule import Timing
from lab.gameday.slo import Objective, Point
from lab.gameday.state import GameDayState, IncidentState, PlannedFault
from tui.modals import ConfirmModal
from tui.screens.gameday import GameDayScreen

SIZE = (110, 40)


class FakeGameDay:
    """What the screen reads of lab.gameday.live.LiveGameDay."""

    def __init__(self) -> None:
        self.seed, self.timing, self.objective = 7, Timing(minutes=10), Objective()
        self.injections = [object()]
        self.lines = ["deploying the service (2 replicas of gameday/web)", "00:40 incident 1 opened (what it is stays hidden until the end)"]
        fault = PlannedFault(number=1, at=40, scenario_id="worker-node-failure", variant="kubelet-stopped", snapshot="/x")
        self.state = GameDayState(
            gameday_id="ab12", seed=7, minutes=10, faults=[fault], load_node="control-plane", started_at=fixed_clock() - 130,
            incidents=[IncidentState(number=1, injected=40.3, guards=[False])], requests=1300, bad=6,
            points=[Point(0, 1.0, 0.004), Point(40, 1.0, 0.004), Point(50, 0.4, 2.0), Point(120, 0.0, 0.001)],
        )
        self.done = False
        self.error = None
        self.stops = 0

    def stop(self) -> None:
        self.stops += 1

    def report(self) -> str | None:
        from lab.gameday.report import markdown

        return markdown(self.state, self.objective) if self.done else None


def screen_text(app) -> str:
    screen = app.screen
    parts = [str(w.render()) for w in screen.query("Static")]
    return "\n".join(parts)


async def test_the_live_screen_shows_the_service_level_and_counts_incidents_without_naming_them(fake_lab):
    live = FakeGameDay()
    app = make_app(fake_lab, open_session=False)
    app.gameday = live
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, GameDayScreen)
        text = screen_text(app)
        assert "02:10 of 10:00" in text and "open incidents 1" in text and "Incidents: 1 open, 0 closed" in text
        assert "budget left 53.8 %" in text
        assert "worker-node-failure" not in text and "kubelet" not in text
        # one column per bucket on a fixed scale: full, full, 40 % (10 of 24 eighths), empty (its floor mark only)
        assert str(app.screen.query_one("#gameday-success").render()).splitlines() == ["██  ", "██▂ ", "███▁"]
        # 2 s is past the 1 s ceiling: a full bar; a few milliseconds barely show
        assert str(app.screen.query_one("#gameday-latency").render()).splitlines() == ["  █ ", "  █ ", "▁▁█▁"]


async def test_the_end_shows_the_report_that_names_the_fault(fake_lab):
    live = FakeGameDay()
    live.state.incidents[0].shown, live.state.incidents[0].repaired = 60.0, 160.0
    live.state.ended_at = fixed_clock()
    live.done = True
    app = make_app(fake_lab, open_session=False)
    app.gameday = live
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        report = app.screen.query_one("#gameday-report")
        assert "worker-node-failure (kubelet-stopped)" in report.source and "repaired after 02:00" in report.source
        assert "The game day has ended" in screen_text(app)
        await pilot.pause(1.5)  # a tick of the live refresh later, the end is still what is shown
        assert "The game day has ended" in screen_text(app)
        await pilot.press("q")
        await settle(pilot)
        assert live.stops == 0 and not app.is_running


async def test_quitting_while_it_runs_stops_the_injector_after_asking(fake_lab):
    live = FakeGameDay()
    app = make_app(fake_lab, open_session=False)
    app.gameday = live
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal) and live.stops == 0
        await pilot.click("#confirm")
        await settle(pilot)
        assert live.stops == 1 and not app.is_running


def test_live_screen(fake_lab, snap_compare):
    app = make_app(fake_lab, open_session=False)
    app.gameday = FakeGameDay()
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_end_screen(fake_lab, snap_compare):
    live = FakeGameDay()
    live.state.incidents[0].shown, live.state.incidents[0].repaired = 60.0, 160.0
    live.state.ended_at = fixed_clock()
    live.done = True
    app = make_app(fake_lab, open_session=False)
    app.gameday = live
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_the_chart_keeps_its_scale_and_the_newest_buckets() -> None:
    from tui.screens.gameday import bars

    assert bars([1.0, 1.0], 1.0, 10, rows=1) == "██"
    assert bars([0.5], 1.0, 10, rows=2) == " \n█"
    assert bars([0.0, 3.0], 1.0, 10, rows=1) == "▁█"
    assert bars([0.1 * i for i in range(20)], 2.0, 4, rows=1) == "▆▇▇█"  # only the last 4 fit: 0.8, 0.85, 0.9, 0.95 of the top
