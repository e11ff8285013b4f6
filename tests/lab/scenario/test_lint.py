"""validate's spoiler warnings: a shown check must not name what its own step broke."""

from __future__ import annotations

from pathlib import Path

from lab.scenario import loader
from lab.scenario.lint import spoilers

SCENARIO = """
id: spoil
title: Spoiler
summary: A scheduler broken, checked by name.
domain: Troubleshooting
difficulty: easy
steps:
  - title: Pending
    task: Make the pod run.
    faults:
      - type: edit-manifest
        manifest: kube-scheduler
        replace: [{{old: "- kube-scheduler", new: "- kube-schedulerr"}}]
    checks:
      - {{type: pod-ready, namespace: kube-system, selector: component=kube-scheduler{extra}}}
      - {{type: deployment-ready, name: app, replicas: 1}}
    solution: fix it
"""


def load(tmp_path: Path, extra: str = ""):
    path = tmp_path / "spoil.yaml"
    path.write_text(SCENARIO.format(extra=extra))
    return loader.load_file(path)


def test_a_shown_check_naming_the_broken_component_is_warned(tmp_path: Path) -> None:
    (warning,) = spoilers(load(tmp_path))
    assert "step 1, check 1 (pod-ready)" in warning and "kube-scheduler" in warning
    assert "show: diagnostic" in warning


def test_a_diagnostic_or_hidden_check_may_name_it(tmp_path: Path) -> None:
    assert spoilers(load(tmp_path, ", show: diagnostic")) == []
    assert spoilers(load(tmp_path, ", show: hidden")) == []


def test_an_expect_sentence_replaces_what_is_shown(tmp_path: Path) -> None:
    assert spoilers(load(tmp_path, ", expect: The pod scheduler runs")) == []
    assert spoilers(load(tmp_path, ", expect: kube-scheduler runs"))  # the sentence itself names it


def test_the_catalog_gives_nothing_away() -> None:
    for path in sorted(Path(loader.__file__).parents[2].joinpath("scenarios").glob("*.yaml")):
        assert spoilers(loader.load_file(path)) == [], path.name
