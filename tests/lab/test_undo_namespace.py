"""A namespace whose deletion waits on its API server's stale discovery of an aggregated group
(seen after an etcd restore: metrics.k8s.io marked stale while its APIService was Available; an
hour later the namespace was still there, and gone 2 s after the API server restarted) gets the
API server restarted once; any other namespace is only waited for."""

from __future__ import annotations

from types import SimpleNamespace as NS

import pytest
from kubernetes.dynamic.exceptions import NotFoundError

from lab import undo
from lab.errors import UndoFailed

STALE = NS(type="NamespaceDeletionDiscoveryFailure", status="True",
           message="Discovery failed for some groups, 1 failing: metrics.k8s.io/v1beta1: stale GroupVersion discovery")


class Namespaces:
    def __init__(self, conditions: list, gone_after_restart: bool) -> None:
        self.conditions, self.gone_after_restart, self.restarts = conditions, gone_after_restart, 0

    def get(self, name: str, namespace: str | None = None) -> NS:
        if self.restarts and self.gone_after_restart:
            raise NotFoundError(NS(status=404, reason="NotFound", body="{}", headers={}))
        return NS(status=NS(conditions=self.conditions))

    def restart(self) -> None:
        self.restarts += 1


@pytest.fixture(autouse=True)
def _fast(monkeypatch) -> None:
    monkeypatch.setattr(undo, "STUCK_NAMESPACE", 0)


def _wait(ns: Namespaces, timeout: float = 1.5) -> None:
    undo._wait_gone(ns, "shop", None, "Namespace/shop", timeout=timeout, restart_api=ns.restart)


def test_stale_discovery_restarts_the_api_server_once_and_the_namespace_goes() -> None:
    ns = Namespaces([STALE], gone_after_restart=True)
    _wait(ns)
    assert ns.restarts == 1


def test_it_is_restarted_only_once_and_the_wait_still_fails_with_its_sentence() -> None:
    ns = Namespaces([STALE], gone_after_restart=False)
    with pytest.raises(UndoFailed, match="Namespace/shop to be deleted"):
        _wait(ns)
    assert ns.restarts == 1


def test_a_namespace_held_by_finalizers_is_only_waited_for() -> None:
    ns = Namespaces([NS(type="NamespaceContentRemaining", status="True", message="pods remain")], gone_after_restart=True)
    with pytest.raises(UndoFailed):
        _wait(ns)
    assert ns.restarts == 0
