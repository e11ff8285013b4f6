"""What faults and checks receive: the lab cluster, its API client (made once), the ledger."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from lab.cluster.lab_cluster import LabCluster
from lab.cluster.leases import LEASE_HOLDER, lease_holders, pick_lease_holder
from lab.cluster.node import Node
from lab.ledger import Ledger


@dataclass
class LabContext:
    cluster: LabCluster
    ledger: Ledger
    _node_cache: dict[str, Node] = field(default_factory=dict)
    recreated_cluster: bool = False
    """Set by an undo that deleted the cluster and created it anew (an upgraded release)."""

    @cached_property
    def api(self) -> Any:
        return self.cluster.api_client()

    @cached_property
    def core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self.api)

    @cached_property
    def apps(self) -> Any:
        from kubernetes import client

        return client.AppsV1Api(self.api)

    @cached_property
    def coordination(self) -> Any:
        from kubernetes import client

        return client.CoordinationV1Api(self.api)

    @cached_property
    def dynamic(self) -> Any:
        from kubernetes.dynamic import DynamicClient

        return DynamicClient(self.api)

    def streaming_core(self) -> Any:
        """A CoreV1Api on a client of its own, for one exec stream. The official client's
        `stream()` swaps the request function of the ApiClient it is given while the stream
        runs, so a stream on the shared client turns every concurrent call (the other checks of
        the step, a fault being injected) into a websocket handshake that fails."""
        from kubernetes import client

        return client.CoreV1Api(self.cluster.api_client())

    def forget_cluster(self) -> None:
        """Drop the clients and nodes of a cluster that was just re-created."""
        self._node_cache.clear()
        for name in ("api", "core", "apps", "coordination", "dynamic"):
            self.__dict__.pop(name, None)

    def node(self, name: str) -> Node:
        if name == LEASE_HOLDER:  # resolved every time: the leader moves
            return self.cluster.node(pick_lease_holder(lease_holders(self.coordination)))
        if name not in self._node_cache:
            self._node_cache[name] = self.cluster.node(name)
        return self._node_cache[name]

    def resource(self, api_version: str, kind: str) -> Any:
        return self.dynamic.resources.get(api_version=api_version, kind=kind)
