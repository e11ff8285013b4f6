"""What the candidate reads of an exam in a terminal: the task list, one task, the result against
the pass mark (per task and per domain, each missed check with what it wanted), and the review.
Plain data in, rich renderables out; the CLI prints them, the tests read them."""

from __future__ import annotations

from rich.console import Group
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from lab.exam.blueprint import PASS_MARK
from lab.exam.scoring import ExamScore
from lab.exam.state import CheckOutcomeState, ExamState, ExamTaskState
from lab.scenario.models import Scenario
from lab.timefmt import duration


def task_header(task: ExamTaskState, total: int) -> str:
    flag = " · flagged" if task.flagged else ""
    return (f"Task {task.number} of {total} · {task.points} points · {task.domain}{flag}\n"
            f"Context: {task.context}   (kubectl config use-context {task.context})")


def task_view(task: ExamTaskState, total: int, scenario: Scenario) -> Group:
    step = scenario.steps[0]
    return Group(Text(task_header(task, total), style="bold"), Markdown(f"## {step.title}\n\n{step.task}"))


def task_list(state: ExamState, now: float, titles: dict[int, str]) -> Table:
    left = state.left(now)
    clock = f"{duration(left)} left" if left >= 0 else f"time is up ({duration(-left)} over)"
    table = Table(title=f"Exam {state.exam_id} · {len(state.tasks)} tasks · {clock}", title_justify="left")
    table.add_column("#", no_wrap=True)
    table.add_column("task", overflow="fold")
    table.add_column("points", no_wrap=True)
    table.add_column("context", no_wrap=True)
    table.add_column("flag", no_wrap=True)
    for task in state.tasks:
        table.add_row(str(task.number), titles.get(task.number, ""), str(task.points), task.context,
                      "⚑" if task.flagged else "")
    return table


def expected(check: CheckOutcomeState) -> str:
    return check.expect or check.type


def result_view(state: ExamState, score: ExamScore, titles: dict[int, str]) -> Group:
    verdict = "PASS" if score.passed else "FAIL"
    head = Text.assemble(
        (f"{verdict}  ", "bold green" if score.passed else "bold red"),
        f"{score.percent:g} % ({score.earned:g} of {score.possible} points; pass mark {PASS_MARK:g} %)",
    )
    tasks = Table(title="Per task", title_justify="left")
    for name in ("#", "task", "domain", "points"):
        tasks.add_column(name, overflow="fold")
    outcomes = {o.number: o for o in state.outcomes}
    for t in score.tasks:
        tasks.add_row(str(t.number), titles.get(t.number, t.scenario), t.domain, f"{t.earned:g} / {t.points}")
    domains = Table(title="Per domain", title_justify="left")
    for name in ("domain", "points", "share"):
        domains.add_column(name, overflow="fold")
    for domain, (earned, possible) in score.per_domain().items():
        domains.add_row(domain, f"{earned:g} / {possible}", f"{100 * earned / possible:.0f} %" if possible else "—")
    missed = Text()
    for t in score.tasks:
        outcome = outcomes.get(t.number)
        for check in outcome.checks if outcome else []:
            if not check.passed:
                missed.append(f"task {t.number}: ", style="bold")
                missed.append(f"wanted: {expected(check)} — saw: {check.message}\n")
    parts = [head, tasks, domains]
    if missed:
        parts += [Text("Missed checks", style="bold"), missed]
    return Group(*parts)


def review_view(state: ExamState, scenarios: dict[int, Scenario], practise_next: list[str]) -> Group:
    parts: list = []
    outcomes = {o.number: o for o in state.outcomes}
    for task in state.tasks:
        scenario = scenarios[task.number]
        outcome = outcomes.get(task.number)
        earned = f"{outcome.earned:g}" if outcome else "—"
        parts.append(Text(f"Task {task.number}: {scenario.steps[0].title} · {earned} / {task.points} points · "
                          f"time spent {duration(task.seconds)}", style="bold"))
        for check in outcome.checks if outcome else []:
            mark = "✔" if check.passed else "✘"
            parts.append(Text(f"  {mark} wanted: {expected(check)} — saw: {check.message}"))
        parts.append(Markdown(scenario.steps[0].solution))
    if practise_next:
        parts.append(Text("Practise next: " + ", ".join(practise_next), style="bold"))
    return Group(*parts)
