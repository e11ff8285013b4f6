"""`cka-lab setup` picks the quickest path the machine allows (the decision alone; the offline
path itself runs in CI, and the end-to-end tests use what it built)."""

from __future__ import annotations

import pytest

from lab.setup import Machine, decide


def machine(**found: bool) -> Machine:
    defaults = dict(docker_answers=True, registry_answers=False, node_image_present=False,
                    offline_configured=False, can_build_offline=False)
    return Machine(**{**defaults, **found})


@pytest.mark.parametrize(
    ("found", "action"),
    [
        (dict(registry_answers=True), "pull"),  # a laptop with internet and Docker (Desktop)
        (dict(registry_answers=True, can_build_offline=True), "pull"),  # root with internet: still pull, it is faster
        (dict(registry_answers=True, docker_answers=False, can_build_offline=True), "pull"),  # start the engine, then pull
        (dict(can_build_offline=True), "offline"),  # no registry: build locally
        (dict(offline_configured=True, node_image_present=True), "ready"),  # built before
        (dict(offline_configured=True, node_image_present=False, can_build_offline=True), "offline"),  # image lost
        (dict(), "impossible"),  # no registry, cannot build
        (dict(registry_answers=True, docker_answers=False), "impossible"),  # no Docker to pull into
    ],
)
def test_decision(found: dict, action: str) -> None:
    plan = decide(machine(**found))
    assert plan.action == action
    assert plan.reason  # setup always says why


@pytest.mark.parametrize("name", ["--evil", "Upper", "a b", "x" * 41, "label=x"])
def test_a_cluster_name_that_could_be_read_as_an_option_or_filter_is_refused(name: str, monkeypatch, tmp_path) -> None:
    from lab import settings
    from lab.errors import LabError

    monkeypatch.setenv("CKA_LAB_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("CKA_LAB_CLUSTER", name)
    with pytest.raises(LabError, match="CKA_LAB_CLUSTER"):
        settings.load()
