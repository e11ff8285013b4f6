"""Pilot tests of the scenario browser: filters, starting (with progress), cancelling, resuming."""

from __future__ import annotations

import threading

from tests.fakes import make_app, settle

from lab.errors import LabError
from tui.modals import ConfirmModal, ErrorModal, ProgressModal
from lab.record import Attempt
from lab.results import ResultsStore
from tui.screens.browser import BrowserScreen
from tui.screens.session import SessionScreen


def table_rows(app) -> list[str]:
    table = app.screen.query_one("#scenarios")
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_lists_every_scenario_with_its_last_result(fake_lab):
    ResultsStore(fake_lab.state_dir).add(Attempt("control-plane-failure", 0, 1376, True, 4, 4, 1376, hints=2))
    app = make_app(fake_lab, open_session=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
        assert sorted(table_rows(app)) == ["Control plane failure", "Service has no endpoints", "Volume never binds"]
        table = app.screen.query_one("#scenarios")
        row = table.get_row("control-plane-failure")
        assert row[1:5] == ["Troubleshooting", "medium", "4", "—"]
        assert row[5] == "✔ 22:56 · 2 hints"


def test_steps_column_shows_the_range_over_variants() -> None:
    from lab.scenario import loader
    from tui.screens.browser import steps_of

    catalog = loader.catalog()
    assert steps_of(loader.load_file(catalog["control-plane-failure"])) == "4"
    worker = loader.load_file(catalog["worker-node-failure"])
    assert steps_of(worker) == "1" and len(worker.variants) == 5


async def test_search_and_domain_filter(fake_lab):
    app = make_app(fake_lab, open_session=False)
    async with app.run_test() as pilot:
        await pilot.press("slash", *"pending")
        await pilot.pause()
        # the word appears in the summaries of the real scenario and the storage copy
        assert sorted(table_rows(app)) == ["Control plane failure", "Volume never binds"]
        await pilot.press("enter")  # leaves the search box for the list
        await pilot.press("d")  # first domain after "all", in sorted order
        await pilot.pause()
        assert table_rows(app) == []  # "Services and Networking" has no match for "pending"
        await pilot.press("d", "d")
        await pilot.pause()
        assert table_rows(app) == ["Control plane failure"]


async def test_enter_starts_the_scenario_with_progress_then_opens_the_session(fake_lab):
    app = make_app(fake_lab, open_session=False)
    async with app.run_test() as pilot:
        await pilot.press("slash", *"control", "enter")
        await pilot.press("enter")
        await settle(pilot)
        assert fake_lab.calls[0] == "start"
        assert isinstance(app.screen, SessionScreen)
        assert fake_lab.state().scenario_id == "control-plane-failure"
        assert app.busy is None


async def test_cancelling_a_start_undoes_it(fake_lab):
    fake_lab.start_gate = threading.Event()
    app = make_app(fake_lab, open_session=False)
    async with app.run_test() as pilot:
        await pilot.press("slash", *"control", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ProgressModal)
        assert app.busy == "starting a scenario"
        await pilot.press("escape")  # cancel
        fake_lab.start_gate.set()  # the engine reaches its next progress point
        await settle(pilot)
        assert fake_lab.calls == ["start", "reset"]
        assert fake_lab.state() is None
        assert isinstance(app.screen, BrowserScreen)
        assert app.busy is None


async def test_a_failed_start_shows_the_error(fake_lab, monkeypatch):
    def broken_start(scenario, path, progress, *, cancel=None):
        progress("creating the lab cluster")
        raise LabError("docker is not running", title="Docker unavailable", hint="start Docker, then retry")

    monkeypatch.setattr(fake_lab, "start", broken_start)
    app = make_app(fake_lab, open_session=False)
    async with app.run_test() as pilot:
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ErrorModal)
        assert app.screen.title_text == "Docker unavailable"
        assert app.busy is None


async def test_starting_over_a_running_session_asks_first(fake_lab):
    fake_lab.begin(1)
    app = make_app(fake_lab, open_session=False)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert "r: resume it" in str(app.screen.query_one("#session-banner").render())
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        assert "start" not in fake_lab.calls
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, SessionScreen)
        assert "step 2 of 4" in str(app.screen.query_one("#session-title").render())


async def test_quit_while_starting_asks_and_cancels(fake_lab, capfd):
    fake_lab.start_gate = threading.Event()
    app = make_app(fake_lab, open_session=False)
    async with app.run_test() as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+q")
        assert isinstance(app.screen, ConfirmModal)
        assert "half-injected" in app.screen.message
        await pilot.press("y")
        fake_lab.start_gate.set()
        await pilot.pause()
    await app.workers.wait_for_complete()
    assert "cka-lab reset" in capfd.readouterr().err
    assert fake_lab.calls == ["start", "reset"]  # the start was cancelled and undone, not abandoned


async def test_an_untrusted_scenario_file_asks_before_it_runs(fake_lab, tmp_path, monkeypatch):
    from lab import trust
    from tests.fakes import SCENARIO_PATH, sample_catalog
    from tui.app import LabApp
    from tui.screens.browser import CatalogEntry

    monkeypatch.setenv("CKA_LAB_CONFIG", str(tmp_path / "config" / "config.toml"))
    outside = tmp_path / "mine" / "control-plane-failure.yaml"
    outside.parent.mkdir()
    outside.write_bytes(SCENARIO_PATH.read_bytes())
    real = sample_catalog(fake_lab)[0]
    app = LabApp(fake_lab, check_interval=3600, catalog=[CatalogEntry(outside, real.scenario)])
    async with app.run_test() as pilot:
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmModal)
        body = str(app.screen.query_one(".dialog-body").render())
        assert "acts as root" in body and "edits static pod manifests" in body
        assert "start" not in fake_lab.calls
        await pilot.click("#confirm")
        await settle(pilot)
        assert fake_lab.calls[0] == "start"
    assert trust.is_trusted(outside, outside.read_bytes())
    outside.write_text(outside.read_text() + "\n# edited\n")
    assert not trust.is_trusted(outside, outside.read_bytes())  # an edit needs trusting again
