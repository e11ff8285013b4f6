"""The `cka-lab` command."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from lab.errors import LabError


def _markdown(text: str):
    # rich.markdown pulls in markdown-it and pygments (0.2-0.5 s): only the commands that
    # print a task or a solution pay for it, not `check` or `status`
    from rich.markdown import Markdown

    return Markdown(text)


def _table(**kwargs):
    from rich.table import Table

    return Table(**kwargs)

app = typer.Typer(
    help="Break a real kind cluster the way the CKA exam does, then fix it. `cka-lab` alone opens the scenario browser.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
offline_app = typer.Typer(help="Prepare a machine with no internet: kind, node image and workload images built locally.")
app.add_typer(offline_app, name="offline")

out = Console()
err = Console(stderr=True, soft_wrap=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
TrustOption = Annotated[
    bool,
    typer.Option("--trust", help="Trust this scenario file as it is now (it acts as root on the lab's nodes); "
                 "built-in scenarios need no trust."),
]


def _trust_if_asked(path: Path, yes: bool) -> None:
    if yes:
        from lab import trust

        if not trust.is_builtin(path):
            key = trust.trust(path, path.read_bytes())
            err.print(f"[yellow]trusted {escape(str(path))} (sha256 {key[:16]}…)[/yellow]", highlight=False)


def _progress(line: str) -> None:
    err.print(f"[dim]• {escape(_progress_line(line))}[/dim]", highlight=False)


def _start_profile(ctx: typer.Context) -> None:
    """Profile the whole command; at its end print the calls that took the most time."""
    import cProfile
    import io
    import pstats

    global _profiling
    _profiling = True
    profiler = cProfile.Profile()
    profiler.enable()

    def report() -> None:
        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        err.print(f"[bold]profile[/bold] ({time.monotonic() - _started:.2f}s in all):", highlight=False)
        err.print(text.getvalue(), markup=False, highlight=False)

    ctx.call_on_close(report)


def make_lab():
    """The one factory the CLI (and the tests, through it) uses to build the engine."""
    from lab.session import Lab

    return Lab()


_started = time.monotonic()
_profiling = False


def _progress_line(line: str) -> str:
    return f"[{time.monotonic() - _started:6.1f}s] {line}" if _profiling else line


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    profile: Annotated[
        bool, typer.Option("--profile", help="Time-stamp progress lines and print where the command spent its time.")
    ] = False,
) -> None:
    if profile:
        _start_profile(ctx)
    if ctx.invoked_subcommand is None:
        if sys.stdout.isatty():
            from tui.app import run_browser

            run_browser(make_lab())
        else:
            out.print(ctx.get_help())


# --- scenarios ---------------------------------------------------------------------------------


@app.command("list")
def list_scenarios(as_json: JsonOption = False) -> None:
    """List the scenario catalog; a broken file is reported on stderr and skipped."""
    from rich.text import Text

    from lab.scenario import loader
    from lab.text import printable

    rows = []
    problems = []
    for scenario_id, path in loader.catalog().items():
        try:
            s = loader.load_file(path)
        except LabError as exc:
            problems.append(exc.message)
            continue
        rows.append(
            {
                "id": s.id,
                "title": s.title,
                "domain": s.domain,
                "difficulty": s.difficulty,
                "steps": len(s.steps),
                "workers": s.cluster.workers,
                "variants": s.variant_ids(),
            }
        )
    if as_json:
        out.print_json(json.dumps(rows))
    else:
        # ids are what the user types: never cut; long titles and domains wrap instead
        table = _table()
        table.add_column("id", no_wrap=True, min_width=max((len(r["id"]) for r in rows), default=2))
        table.add_column("title", overflow="fold", ratio=2)
        table.add_column("domain", overflow="fold", ratio=1)
        for name in ("difficulty", "steps", "variants"):
            table.add_column(name, no_wrap=True)
        for row in rows:
            variants = str(len(row["variants"])) if row["variants"] else "-"
            cells = (row["id"], row["title"], row["domain"], row["difficulty"], str(row["steps"]), variants)
            table.add_row(*(Text(printable(cell, newlines=False)) for cell in cells))
        out.print(table)
    for problem in problems:
        err.print(Text.assemble(("invalid scenario: ", "red"), printable(problem)), highlight=False)


@app.command()
def history(
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option(help="How many attempts, newest first.")] = 20,
    scenario: Annotated[Optional[str], typer.Option(help="Only this scenario.")] = None,  # noqa: UP007
    gamedays: Annotated[bool, typer.Option("--gamedays", help="Game days instead of attempts: score, SLO figures, report.")] = False,
) -> None:
    """Your attempts, practice and exam, newest first (from the training record)."""
    from rich.text import Text

    from lab import paths
    from lab.record import TrainingRecord
    from lab.text import printable
    from lab.timefmt import duration

    record = TrainingRecord(paths.state_dir())
    if gamedays:
        _print_gamedays(record.gamedays(limit=limit), as_json)
        return
    attempts = record.attempts(scenario=scenario, limit=limit, with_steps=as_json)
    if as_json:
        out.print_json(json.dumps([a.as_dict() for a in attempts]))
        return
    if not attempts:
        out.print("No attempts yet: `cka-lab start <scenario>`, `cka-lab exam` or `cka-lab gameday`.")
        return
    table = _table()
    table.add_column("ended", no_wrap=True)
    table.add_column("scenario", overflow="fold", ratio=2)
    table.add_column("result", overflow="fold", ratio=2)
    table.add_column("time", no_wrap=True)
    table.add_column("help", overflow="fold", ratio=1)
    for a in attempts:
        if a.mode == "exam" and a.points:
            result = f"exam task: {a.score:g}/{a.points:g} points"
        elif a.mode == "gameday":
            result = f"game day {a.exam_id}: " + ("repaired" if a.finished else "not repaired")
        elif a.finished:
            result = "solved"
        else:
            result = f"stopped at step {a.steps_done + 1}/{a.steps}"
        helped = ", ".join(
            f"{count} {word}{'s' * (count != 1)}"
            for count, word in ((a.hints, "hint"), (a.reveals, "reveal"), (a.solutions, "solution")) if count
        ) or "none"
        name = a.scenario + (f" ({a.variant})" if a.variant else "")
        cells = (time.strftime("%m-%d %H:%M", time.localtime(a.ended_at)), name, result, duration(a.seconds), helped)
        table.add_row(*(Text(printable(cell, newlines=False)) for cell in cells))
    out.print(table)
    games = record.gamedays(limit=limit) if scenario is None else []
    if games:
        _print_gamedays(games, as_json=False)


def _print_gamedays(games: list, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps([dataclasses.asdict(g) for g in games]))
        return
    if not games:
        out.print("No game days yet: `cka-lab gameday`.")
        return
    table = _table(title="Game days")
    for name in ("ended", "game day", "seed", "repaired", "requests", "budget burned", "score /100"):
        table.add_column(name, no_wrap=True)
    for g in games:
        table.add_row(time.strftime("%m-%d %H:%M", time.localtime(g.ended_at)), g.id, str(g.seed),
                      f"{g.repaired}/{g.faults}", str(g.requests), f"{100 * g.budget_burned:.0f} %", str(g.score))
    out.print(table)


@app.command()
def stats(as_json: JsonOption = False) -> None:
    """Per CKA domain: attempts, success rate, median time, trend; and what to practise next."""
    from lab import paths
    from lab.record import TrainingRecord
    from lab.timefmt import duration

    record = TrainingRecord(paths.state_dir())
    per_domain = record.domain_stats()
    weakest = record.weakest()
    if as_json:
        out.print_json(json.dumps({
            "domains": [s.__dict__ | {"success_rate": s.success_rate} for s in per_domain],
            "weakest": [{"scenario": n, "success_rate": r, "attempts": c} for n, r, c in weakest],
        }))
        return
    if not per_domain:
        out.print("No attempts yet: `cka-lab start <scenario>` or `cka-lab exam`.")
        return
    table = _table(title="Training record")
    for name in ("domain", "attempts", "success", "median time", "trend"):
        table.add_column(name, no_wrap=name != "domain", overflow="fold")
    for s in per_domain:
        trend = "—" if s.trend is None else f"{s.trend:+.0%}"
        median = "—" if s.median_seconds is None else duration(s.median_seconds)
        table.add_row(escape(s.domain), str(s.attempts), f"{s.success_rate:.0%}", median, trend)
    out.print(table)
    out.print("Practise next: " + ", ".join(f"{n} ({r:.0%} of {c})" for n, r, c in weakest)
              + "  [dim](success = solved without viewing the solution)[/dim]")


@app.command()
def validate(paths: Annotated[list[Path], typer.Argument(help="Scenario files or folders.")]) -> None:
    """Check scenario files without touching any cluster: every file is reported, ok or with its
    problems (`file:line: where: what`); exit 1 if any is invalid."""
    from rich.text import Text

    from lab.scenario import loader
    from lab.text import printable

    from lab.scenario.lint import spoilers

    ok, errors = loader.validate_paths(paths)
    for file in ok:
        out.print(Text.assemble(("ok", "green"), " ", printable(str(file), newlines=False)), highlight=False)
        for warning in spoilers(loader.load_file(file)):
            err.print(Text.assemble(("warning", "yellow"), " ", printable(f"{file}: {warning}")), highlight=False)
    for error in errors:
        err.print(printable(error), highlight=False, markup=False)
    if errors or not ok:
        if not ok and not errors:
            err.print("no scenario files found")
        elif len(ok) + len(errors) > 1:
            err.print(f"{len(errors)} of {len(ok) + len(errors)} scenario files invalid", highlight=False, markup=False)
        raise typer.Exit(1)


@app.command()
def schema(write: Annotated[bool, typer.Option(help="Rewrite the committed schema file.")] = False) -> None:
    """Print (or --write) the JSON Schema of scenario files."""
    from lab.scenario import schema as schema_module

    if write:
        out.print(f"wrote {schema_module.write()}")
    else:
        sys.stdout.write(schema_module.generate())


# --- the practice session ----------------------------------------------------------------------


def _print_task(lab) -> None:
    state = lab.require_state()
    scenario = lab.scenario()
    if state.finished:
        out.print(f"[bold green]Scenario {scenario.id} complete.[/bold green]")
        return
    step = scenario.steps[state.step]
    out.rule(f"{scenario.title} — step {state.step + 1}/{len(scenario.steps)}: {step.title}")
    out.print(_markdown(step.task))
    out.print(
        "\n[dim]kubectl: `cka-lab shell` (KUBECONFIG set, alias k) · node shell: `cka-lab ssh control-plane` · "
        "grade: `cka-lab check` · `cka-lab hint`[/dim]"
    )


@app.command()
def start(
    scenario: Annotated[str, typer.Argument(help="Scenario id (see `cka-lab list`) or path to a scenario file.")],
    no_tui: Annotated[bool, typer.Option("--no-tui", help="Plain output even on a terminal.")] = False,
    seed: Annotated[
        Optional[int], typer.Option(help="Pick the scenario's variant reproducibly (random without).")  # noqa: UP007
    ] = None,
    variant: Annotated[Optional[str], typer.Option(help="Play this variant (see `cka-lab list`).")] = None,  # noqa: UP007
    trust: TrustOption = False,
) -> None:
    """Create or reuse the lab cluster, apply the scenario and inject step 1."""
    from lab.scenario import loader

    path = loader.find(scenario)
    _trust_if_asked(path, trust)
    model = loader.load_file(path)
    lab = make_lab()
    lab.start(model, path, _progress, seed=seed, variant=variant)
    if sys.stdout.isatty() and not no_tui:
        from tui.app import run_session

        run_session(lab)
    else:
        _print_task(lab)


@app.command()
def exam(
    seed: Annotated[Optional[int], typer.Option(help="Draw this exam again (a retake without a seed "  # noqa: UP007
                                                "prefers tasks you have not met recently).")] = None,
    minutes: Annotated[int, typer.Option(min=1, max=600, help="Time allowed.")] = 120,
    tasks: Annotated[int, typer.Option(min=1, max=40, help="Tasks wanted (the catalog may offer fewer "
                                       "that can share one cluster).")] = 16,
    resume: Annotated[bool, typer.Option("--resume", help="Go back to the running exam.")] = False,
    task: Annotated[Optional[int], typer.Option(help="Show this task of the running exam.")] = None,  # noqa: UP007
    flag: Annotated[Optional[int], typer.Option(help="Flag (or unflag) this task to come back to.")] = None,  # noqa: UP007
    end: Annotated[bool, typer.Option("--end", help="End the exam now and grade every task.")] = False,
    review: Annotated[bool, typer.Option("--review", help="After the end: solutions, checks, time per task.")] = False,
    no_tui: Annotated[bool, typer.Option("--no-tui", help="Plain output even on a terminal.")] = False,
    as_json: JsonOption = False,
) -> None:
    """A mock CKA exam: tasks across the five domains in one cluster, a countdown, no feedback
    until the end, then a score against the 66 % pass mark. Undone by `cka-lab reset`."""
    from lab.exam import report
    from lab.exam.runner import Exam

    lab = make_lab()
    runner = Exam(lab)
    state = runner.state()
    if flag is not None:
        flagged = runner.flag(flag)
        out.print(f"task {flag} {'flagged' if flagged else 'unflagged'}")
        return
    if task is not None:
        state = runner.require()
        chosen = runner._task(state, task)
        out.print(report.task_view(chosen, len(state.tasks), runner.task_scenario(chosen)))
        return
    if state is not None and state.ended_at is None and state.left(time.time()) < 0 and not end:
        _progress("time is up: the exam is graded now")
        end = True
    if end or review:
        state = runner.require()
        if state.ended_at is None and review:
            raise LabError("the exam is still running: `cka-lab exam --end` grades it first", title="Exam running")
        score = runner.end(_progress)
        state = runner.require()
        scenarios = {t.number: runner.task_scenario(t) for t in state.tasks}
        titles = {n: s.steps[0].title for n, s in scenarios.items()}
        if as_json:
            out.print_json(json.dumps({
                "exam_id": state.exam_id, "seed": state.seed, "percent": score.percent, "passed": score.passed,
                "earned": score.earned, "possible": score.possible,
                "tasks": [t.__dict__ for t in score.tasks],
                "outcomes": [o.model_dump() for o in state.outcomes],
            }))
        elif review:
            picks = [name for name, _, _ in lab.results.record.weakest()]
            out.print(report.review_view(state, scenarios, picks))
        elif sys.stdout.isatty() and not no_tui:
            from tui.app import run_exam

            run_exam(lab)
        else:
            out.print(report.result_view(state, score, titles))
            out.print("[dim]`cka-lab exam --review` for the solutions; `cka-lab reset` undoes the exam.[/dim]")
        return
    if state is None:
        if resume:
            raise LabError("no exam is running", title="No exam", hint="start one: cka-lab exam")
        chosen_seed, drawn = runner.plan(tasks, seed)
        if len(drawn) < tasks:
            _progress(f"the catalog offers {len(drawn)} tasks that can share one cluster; this exam has {len(drawn)}")
        state = runner.start(drawn, seed=chosen_seed, minutes=minutes, progress=_progress)
    elif not resume:
        raise LabError("an exam is already running", title="Exam running",
                       hint="`cka-lab exam --resume` goes back to it; `cka-lab reset` undoes it")
    if state.ended_at is not None:
        out.print("This exam has ended: `cka-lab exam --end` shows the result, `cka-lab reset` undoes it.")
        return
    if as_json:
        out.print_json(json.dumps({"exam_id": state.exam_id, "seed": state.seed, "ends_at": state.ends_at,
                                   "tasks": [t.model_dump() | {"context": t.context} for t in state.tasks]}))
        return
    if sys.stdout.isatty() and not no_tui:
        from tui.app import run_exam

        run_exam(lab)
        return
    titles = {t.number: runner.task_scenario(t).steps[0].title for t in state.tasks}
    out.print(report.task_list(state, time.time(), titles))
    out.print(f"seed {state.seed} · `cka-lab exam --task N` shows a task · `cka-lab shell` has a context per task "
              "· `cka-lab exam --end` grades", highlight=False)


@app.command()
def gameday(
    seed: Annotated[Optional[int], typer.Option(help="Play this game day again (random without).")] = None,  # noqa: UP007
    minutes: Annotated[float, typer.Option(min=1, max=600, help="How long it runs (it ends early once every "
                                           "fault was injected and repaired).")] = 15,
    faults: Annotated[int, typer.Option(min=1, max=20, help="Faults injected, at random times.")] = 2,
    report: Annotated[Optional[Path], typer.Option(help="Also save the end report here (Markdown).")] = None,  # noqa: UP007
    warmup: Annotated[float, typer.Option(min=5, max=600, help="Seconds of steady state before the first fault.",
                                          hidden=True)] = 60,
    no_tui: Annotated[bool, typer.Option("--no-tui", help="Plain output even on a terminal.")] = False,
) -> None:
    """A game day: a small service under steady load while faults from the catalog are injected at
    random times, unannounced. Keep the service within its SLO and repair what broke (in another
    terminal: `cka-lab shell`); each repair is timed. Ends with a timeline, the error budget
    burned and a score; `cka-lab reset` undoes every fault."""
    from lab.gameday import report as gameday_report
    from lab.gameday.runner import GameDay
    from lab.gameday.schedule import Timing

    if report is not None and not report.expanduser().resolve().parent.is_dir():
        raise LabError(f"cannot save the report as {report}: its folder does not exist", title="Report not writable",
                       hint="name a file in an existing folder")
    timing = Timing(minutes=minutes, warmup=warmup)
    chosen_seed, injections = GameDay.plan(faults, seed, timing)
    lab = make_lab()
    runner = GameDay(lab)
    if runner.state() is not None and runner.state().ended_at is None:  # type: ignore[union-attr]
        raise LabError("a game day is running already", title="Game day running",
                       hint="let it end, or `cka-lab reset` undoes it")
    _progress(f"game day, seed {chosen_seed}: {faults} fault(s) within {minutes:g} minutes; "
              "what breaks stays hidden until the end")

    last_status = [0.0]

    def status(state) -> None:
        # a line every 15 s: often enough to follow the service, rare enough to read the log
        now = time.time()
        if now - last_status[0] >= 15:
            last_status[0] = now
            out.print(gameday_report.status_line(state, runner.objective, now), highlight=False, markup=False,
                      soft_wrap=True)

    import signal

    def _stop_on_term(_signum, _frame) -> None:
        raise KeyboardInterrupt  # a `kill` ends the game day like Ctrl-C: injector stopped, report written

    signal.signal(signal.SIGTERM, _stop_on_term)
    if sys.stdout.isatty() and not no_tui:
        from lab.gameday.live import LiveGameDay
        from tui.app import run_gameday

        live = LiveGameDay(runner, injections, seed=chosen_seed, timing=timing)
        live.start()
        try:
            run_gameday(lab, live)
        finally:
            live.stop()  # the injector never outlives its screen
            _progress("the game day's injector is stopped; winding down the traffic generator")
            live.join()
        if live.error is not None:
            raise live.error
        assert live.state is not None
        state = live.state
    else:
        state = runner.run(injections, seed=chosen_seed, timing=timing, progress=_progress, status=status)
    text = gameday_report.markdown(state, runner.objective)
    out.print(_markdown(text))
    if report is not None:
        report.expanduser().write_text(text)
        out.print(f"report saved as {escape(str(report))}", highlight=False)
    out.print("[dim]`cka-lab reset` undoes every fault of this game day; `cka-lab history` lists it.[/dim]")
    if state.stopped_early == "interrupted":
        raise typer.Exit(130)  # as an interrupted command: the report above is of a cut-short game day


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Show the running session (or exam, or game day)."""
    lab = make_lab()
    if lab.state() is None and lab.gameday_file.exists():
        from lab.gameday import report as gameday_report
        from lab.gameday.runner import GameDay

        runner = GameDay(lab)
        game = runner.state()
        if game is not None:
            line = gameday_report.status_line(game, runner.objective, game.ended_at or time.time())
            if as_json:
                out.print_json(json.dumps({"gameday_id": game.gameday_id, "ended": game.ended_at is not None,
                                           "requests": game.requests, "bad": game.bad,
                                           "open_incidents": sum(i.open for i in game.incidents)}))
                return
            state = "ended" if game.ended_at is not None else "running"
            out.print(f"Game day {game.gameday_id} ({state}): {line}", highlight=False, markup=False)
            return
    if lab.state() is None and lab.exam_file.exists():
        from lab.exam.runner import Exam

        exam = Exam(lab).require()
        left = exam.left(time.time())
        flagged = sum(t.flagged for t in exam.tasks)
        if as_json:
            out.print_json(json.dumps({"exam_id": exam.exam_id, "tasks": len(exam.tasks), "flagged": flagged,
                                       "seconds_left": round(left), "ended": exam.ended_at is not None}))
            return
        state = "ended" if exam.ended_at is not None else f"{max(left, 0) // 60:.0f} min left"
        out.print(f"Mock exam {exam.exam_id}: {len(exam.tasks)} tasks, {flagged} flagged, {state} "
                  "(`cka-lab exam --resume`)")
        return
    summary = lab.summary()
    if as_json:
        out.print_json(json.dumps(summary))
        return
    variant = f", variant {summary['variant']}" if summary.get("variant") else ""
    out.print(
        f"{summary['title']} ({summary['scenario']}{variant}): step {summary['step']}/{summary['steps']}"
        + (" — finished" if summary["finished"] else "")
        + f", {summary['elapsed_seconds'] // 60} min, hints {summary['hints_used']}, solutions {summary['solutions_viewed']}"
    )
    _print_task(lab)


@app.command()
def check(as_json: JsonOption = False) -> None:
    """Grade the current step. Exit 0 only when it passes; then the next step begins.

    Shows what must become true, never the cause: diagnostic checks stay locked until they pass
    or you reveal them (`cka-lab reveal`, counted), hidden ones are only counted."""
    from lab.checks.presentation import present

    lab = make_lab()
    revealed = lab.revealed()
    grading = lab.grade(_progress)
    specs = lab.scenario().steps[grading.step].checks
    results = [r for _, r in grading.results]
    rows, note = present(specs, results or None, revealed, step_over=grading.passed)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    "step": grading.step + 1,
                    "passed": grading.passed,
                    "advanced": grading.advanced,
                    "checks": [
                        {"number": row.index, "status": row.status, "message": row.text}
                        | ({"type": row.type, "detail": results[row.index - 1].detail}
                           if row.status != "locked" and results else {})
                        for row in rows
                    ],
                    "held_back": note or None,
                }
            )
        )
    else:
        marks = {"passed": "[green]✔[/green]", "failing": "[red]✘[/red]", "locked": "[yellow]?[/yellow]", "pending": "○"}
        for row in rows:
            out.print(f"{marks[row.status]} {escape(row.text)}", highlight=False)
        if note:
            out.print(f"[dim]{escape(note)}[/dim]", highlight=False)
    if not grading.passed:
        raise typer.Exit(1)
    if not as_json and grading.advanced:
        out.print(f"[bold green]Step {grading.step + 1} solved.[/bold green]")
    if not as_json:
        _print_task(lab)


@app.command()
def reveal(
    number: Annotated[int | None, typer.Argument(help="The diagnostic check to reveal (its number in `cka-lab check`); "
                                                 "the first locked one when left out.")] = None,
) -> None:
    """Reveal what a diagnostic check of the current step looks at (counted in your record)."""
    from lab.checks.presentation import describe_pending

    lab = make_lab()
    shown = lab.reveal_check(number)
    if shown is None:
        out.print("This step has no locked diagnostic check.")
        return
    spec = lab.scenario().steps[lab.require_state().step].checks[shown - 1]
    out.print(f"[bold]Check {shown}:[/bold] {escape(describe_pending(spec))}", highlight=False)
    out.print("[dim]`cka-lab check` now shows its result.[/dim]")


@app.command()
def hint() -> None:
    """Reveal the next hint of the current step."""
    lab = make_lab()
    revealed = lab.reveal_hint()
    total = len(lab.scenario().steps[lab.require_state().step].hints)
    if revealed is None:
        out.print(f"All {total} hints of this step are shown:")
        for number, text in enumerate(lab.shown_hints(), 1):
            out.print(f"{number}. {text}")
        return
    number, text = revealed
    out.print(f"[bold]Hint {number}/{total}:[/bold] ", end="")
    out.print(_markdown(text))


@app.command()
def solution(yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False) -> None:
    """Show the solution of the current step (counted in your summary)."""
    lab = make_lab()
    lab.require_state()
    if not yes and sys.stdin.isatty() and not typer.confirm("Show the solution? It is counted in your summary"):
        raise typer.Exit(1)
    out.print(_markdown(lab.reveal_solution()))


@app.command()
def reset(
    forget: Annotated[
        bool,
        typer.Option("--forget", help="Drop the recorded changes without undoing them (lists each one); for a "
                     "lab cluster that was deleted or re-created outside cka-lab."),
    ] = False,
) -> None:
    """Undo every injected fault and the scenario's objects; the cluster is back to its baseline."""
    lab = make_lab()
    if forget:
        dropped = lab.reset(_progress, forget=True)
        out.print(f"reset --forget: {dropped} recorded change(s) dropped without undoing them")
        return
    undone = lab.reset(_progress)
    if not lab.cluster.exists():
        out.print("reset: nothing to undo; there is no lab cluster (`cka-lab start <scenario>` creates one)")
        return
    out.print(f"reset: {undone} change(s) undone; the cluster is back to its baseline")


@app.command()
def down() -> None:
    """Delete the lab cluster."""
    make_lab().down(_progress)
    out.print("lab cluster deleted")


@app.command()
def selftest(
    scenario: Annotated[Optional[str], typer.Argument(help="Scenario id or file.")] = None,  # noqa: UP007
    all_: Annotated[bool, typer.Option("--all", help="Every scenario of the catalog.")] = False,
    variant: Annotated[
        Optional[str], typer.Option(help="Only this variant (default: every variant of the scenario).")  # noqa: UP007
    ] = None,
    trust: TrustOption = False,
    exam_: Annotated[bool, typer.Option("--exam", help="Prove a combined exam (with --seed and --tasks).")] = False,
    seed: Annotated[int, typer.Option(help="With --exam: the exam's seed.")] = 1,
    tasks: Annotated[int, typer.Option(min=1, max=40, help="With --exam: tasks wanted.")] = 16,
) -> None:
    """Prove scenarios on the real cluster: checks fail, reference solution passes, reset restores.
    A scenario with variants is proved once per variant. With --exam, a whole exam at once."""
    import time

    from lab.scenario import loader
    from lab.selftest import selftest as run_selftest

    if exam_:
        from lab.selftest import selftest_exam

        started = time.monotonic()
        out.rule(f"selftest --exam --seed {seed}")
        try:
            selftest_exam(make_lab(), seed, tasks, _progress)
        except LabError as exc:
            out.print("[red]FAIL[/red] ", end="")
            out.print(f"exam --seed {seed}: {exc}", highlight=False, markup=False)
            raise typer.Exit(1) from None
        out.print(f"[green]PASS[/green] exam --seed {seed} in {time.monotonic() - started:.0f}s")
        return
    if not scenario and not all_:
        raise LabError("name a scenario or pass --all", title="Nothing to test")
    paths = list(loader.catalog().values()) if all_ else [loader.find(scenario or "")]
    for path in paths:
        _trust_if_asked(path, trust)
    lab = make_lab()
    failed = []
    for path in paths:
        model = loader.load_file(path)
        for chosen in [variant] if variant else model.variant_ids() or [None]:
            name = f"{model.id} --variant {chosen}" if chosen else model.id
            started = time.monotonic()
            out.rule(f"selftest {name}")
            try:
                run_selftest(lab, model, path, _progress, variant=chosen)
                out.print(f"[green]PASS[/green] {name} in {time.monotonic() - started:.0f}s")
            except Exception as exc:  # noqa: BLE001  (one broken scenario must not stop the others)
                failed.append(name)
                out.print("[red]FAIL[/red] ", end="")
                text = str(exc) if isinstance(exc, LabError) else f"{type(exc).__name__}: {exc}"
                out.print(f"{name}: {text}", highlight=False, markup=False)
    if failed:
        raise typer.Exit(1)


# --- shells ------------------------------------------------------------------------------------


@app.command()
def shell() -> None:
    """A subshell with the lab's KUBECONFIG and the `k` alias (exit to come back)."""
    from lab.shells import open_shell

    raise typer.Exit(open_shell(make_lab()))


@app.command()
def ssh(
    node: Annotated[str, typer.Argument(help="control-plane, worker, worker2, …")],
    command: Annotated[Optional[list[str]], typer.Argument(help="Command to run instead of a shell.")] = None,  # noqa: UP007
) -> None:
    """A shell inside a node, as `ssh` to a node in the exam."""
    from lab.shells import open_node_shell

    raise typer.Exit(open_node_shell(make_lab(), node, command or []))


# --- offline -----------------------------------------------------------------------------------


@app.command()
def setup() -> None:
    """Make this machine ready: pull the pinned official images where a registry answers, else
    build everything locally (no internet needed). Says which path it took and why."""
    from lab.settings import load
    from lab.setup import run_setup

    plan = run_setup(_progress, err)
    how = {"ready": "already set up", "pull": "official images", "offline": "built locally"}[plan.action]
    out.print(f"ready ({how}): node image {load().node_image}")


@offline_app.command("prepare")
def offline_prepare(
    release: Annotated[
        Optional[list[str]],  # noqa: UP007
        typer.Option(help="Also build this pinned Kubernetes release (node image, images, apt packages)."),
    ] = None,
    addon: Annotated[
        Optional[list[str]],  # noqa: UP007
        typer.Option(help="Also build this add-on's images (else built the first time a scenario needs it)."),
    ] = None,
    all_releases: Annotated[
        bool, typer.Option("--all", help="Also build every other pinned release, every add-on and kind's API load balancer.")
    ] = False,
) -> None:
    """Docker engine, kind, node image, workload images and the always-on add-ons, built from
    package registries (cached)."""
    from lab.offline.prepare import extra_addons, extra_releases, prepare
    from lab.settings import load

    releases = extra_releases(release or (), all_releases)
    timings = prepare(err, releases, extra_addons(addon or (), all_releases), with_loadbalancer=all_releases)
    total = sum(timings.values())
    configured = load()
    out.print(f"offline build ready in {total:.0f}s; node image: {configured.node_image}")
    for r in releases:
        out.print(f"node image of Kubernetes {r.kubernetes}: {configured.node_image_for(r.kubernetes)}")


def main() -> None:
    try:
        app()
    except LabError as exc:
        # messages quote files and command output: never read them as markup
        err.print(f"[bold red]{escape(exc.title)}:[/bold red] {escape(exc.message)}", highlight=False)
        if exc.hint:
            err.print(f"[yellow]→ {escape(exc.hint)}[/yellow]", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted; if faults were being injected, run `cka-lab reset`")
        sys.exit(130)
