"""The training record screen, from the browser: per-domain rows from the real SQLite record,
and p starting the weakest scenario."""

from __future__ import annotations

from tests.fakes import make_app, settle

from lab.record import Attempt
from lab.results import ResultsStore
from tui.screens.stats import StatsScreen

SIZE = (100, 30)


def fill_record(state_dir) -> None:
    store = ResultsStore(state_dir)
    store.add(Attempt("control-plane-failure", 0, 1000, True, 4, 4, 900, domain="Troubleshooting", hints=2))
    store.add(Attempt("control-plane-failure", 0, 2000, False, 4, 1, 600, domain="Troubleshooting"))
    store.add(Attempt("pv-stuck", 0, 3000, True, 4, 4, 300, domain="Storage", solutions=1))
    store.add(Attempt("service-no-endpoints", 0, 4000, True, 4, 4, 420, domain="Services and Networking"))


async def test_t_opens_the_record_with_a_row_per_domain(fake_lab):
    fill_record(fake_lab.state_dir)
    app = make_app(fake_lab, open_session=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, StatsScreen)
        table = app.screen.query_one("#domains")
        rows = {str(table.get_row_at(i)[0]): table.get_row_at(i) for i in range(table.row_count)}
        assert set(rows) == {"Storage", "Services and Networking", "Troubleshooting"}
        assert str(rows["Troubleshooting"][1]) == "2" and str(rows["Troubleshooting"][2]).endswith(" 50%")
        assert str(rows["Storage"][2]).endswith(" 0%")  # the solution was viewed
        assert app.screen.query_one("#recent").data == [900, 600, 300, 420]
        assert "pv-stuck" in str(app.screen.query_one("#weakest").render())


async def test_p_starts_the_weakest_scenario(fake_lab):
    fill_record(fake_lab.state_dir)
    app = make_app(fake_lab, open_session=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert fake_lab.state() is not None and fake_lab.state().scenario_id == "pv-stuck"


def test_stats_screen(fake_lab, snap_compare):
    fill_record(fake_lab.state_dir)

    async def open_record(pilot):
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)

    assert snap_compare(make_app(fake_lab, open_session=False), terminal_size=SIZE, run_before=open_record)
