"""A stacked etcd member that lost its data, as a wiped folder or a replaced disk leaves it. The
member starts again empty under its old identity and the leader, whose log says that member
holds entries it has not got, makes it crash at once ("tocommit … is out of range … Was the raft
log corrupted, truncated, or lost?"). The repair is the one etcd documents for a failed member:
remove it, add it again, start it with an empty data directory.

Everything is done through `etcdctl` in a running etcd container of the control plane and
`crictl` on the nodes, as a trainee would; the member is stopped the kubelet's way (its static
pod manifest moved out of the manifests folder) while its data is swapped, so no etcd writes
into a folder being copied. The member's own data waits in the lab's state directory on the
host, not on the node, where it would tell the trainee what happened."""

from __future__ import annotations

import json
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

from lab.cluster.etcd import LOCAL_ENDPOINT, etcdctl_command
from lab.cluster.node import CRICTL, Node, NodeUnreachable, read_file
from lab.errors import CommandError, LabError, TimedOut, UndoFailed
from lab.ledger import EtcdMemberState
from lab.params import NodeName
from lab.registry import FAULTS
from lab.shell import run
from lab.wait import Pending, wait_until

MANIFEST = "/etc/kubernetes/manifests/etcd.yaml"
STOPPED_MANIFEST = "/etc/kubernetes/cka-lab-etcd-stopped.yaml"
"""Where the manifest waits while the member is stopped: outside the folder the kubelet reads."""
MEMBER_DIR = "/var/lib/etcd/member"


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    peer_urls: tuple[str, ...]
    client_urls: tuple[str, ...]

    @property
    def hex_id(self) -> str:
        return f"{self.id:x}"


def running_etcd(node: Node) -> str | None:
    """The id of the node's running etcd container, None when it has none."""
    out = node.run([*CRICTL, "ps", "-q", "--state", "running", "--name", "^etcd$"], check=False)
    ids = out.stdout.split()
    return ids[0] if out.returncode == 0 and ids else None


def etcdctl(node: Node, args: str, endpoint: str = LOCAL_ENDPOINT, timeout: float = 30) -> str:
    """`etcdctl <args>` in the node's running etcd container; CommandError (with the command to
    paste) when it fails or no etcd runs there."""
    container = running_etcd(node)
    if container is None:
        raise CommandError(["crictl", "ps", "--name", "^etcd$"], 1, f"no etcd container runs on {node.short_name}",
                           context=f"etcdctl {args}")
    return node.sh(etcdctl_command(args, container=container, endpoint=endpoint), timeout=timeout).stdout


def members(node: Node) -> list[Member]:
    listed = json.loads(etcdctl(node, "member list -w json"))
    return [Member(int(m["ID"]), m.get("name", ""), tuple(m.get("peerURLs", [])), tuple(m.get("clientURLs", [])))
            for m in listed.get("members", [])]


def leader(node: Node) -> int:
    status = json.loads(etcdctl(node, "endpoint status -w json"))
    return int(status[0]["Status"]["leader"])


def endpoint_healthy(node: Node, url: str) -> bool:
    container = running_etcd(node)
    if container is None:
        return False
    command = etcdctl_command("endpoint health", container=container, endpoint=url)
    return node.sh(command, check=False, timeout=30).returncode == 0


def peer(ctx, target: Node) -> Node:
    """Another control-plane node whose etcd runs and answers (with quorum: it serves a
    linearizable read); CommandError when none does (reset retries that while other undos bring
    the quorum back)."""
    for node in ctx.cluster.nodes():
        if node.role != "control-plane" or node.container == target.container:
            continue
        try:
            if endpoint_healthy(node, LOCAL_ENDPOINT):
                return node
        except NodeUnreachable:
            continue
    raise CommandError(["etcdctl", "endpoint", "health"], 1, "no other control-plane node's etcd answers with quorum",
                       context=f"finding a healthy etcd member beside {target.short_name}")


def member_healthy(ctx, target: Node, peer_url: str) -> bool:
    """The member at this peer URL is in the cluster, started, and answers healthy."""
    helper = peer(ctx, target)
    found = [m for m in members(helper) if peer_url in m.peer_urls]
    return bool(found and found[0].name and found[0].client_urls and endpoint_healthy(helper, found[0].client_urls[0]))


def _stop_member(target: Node) -> None:
    """Take the etcd static pod away (the manifest moved out, as an administrator does) and wait
    until its container is gone."""
    target.sh(f"if [ -e {MANIFEST} ]; then mv {MANIFEST} {STOPPED_MANIFEST}; fi")
    try:
        wait_until(lambda: running_etcd(target) is None or Pending("etcd still running"), timeout=90, interval=1,
                   what=f"etcd on {target.short_name} to stop")
    except TimedOut as exc:
        raise LabError(exc.message, title="etcd did not stop",
                       hint=f"cka-lab ssh {target.short_name} -- crictl ps --name etcd") from None


def _start_member(target: Node) -> None:
    """Put the manifest back: the kubelet creates the pod anew (no crash-loop back-off)."""
    target.sh(f"if [ -e {STOPPED_MANIFEST} ] && [ ! -e {MANIFEST} ]; then mv {STOPPED_MANIFEST} {MANIFEST}; fi; "
              f"rm -f {STOPPED_MANIFEST}")


def _initial_cluster_size(manifest: str) -> int:
    for word in manifest.split():
        if word.startswith("--initial-cluster="):
            return len(word.removeprefix("--initial-cluster=").split(","))
    return 0


@FAULTS.register("lose-etcd-data")
def lose_etcd_data(ctx, node: NodeName) -> None:
    """Take the data of the stacked etcd member on a control-plane `node` away (while the member
    is stopped, its data directory is copied to the lab's state directory on the host and
    removed), so that it crash-loops on its empty data directory while the other members keep
    quorum. The node must be one that joined an
    existing etcd cluster (a member started with `--initial-cluster-state=existing` and an
    initial cluster naming every member: kind's last control-plane node). The member is made
    a follower first (a leader that lost its data is no longer told it is behind). Undo gives
    the member its own data back, or removes and adds it again when a repair was left half-way."""
    target = ctx.node(node)
    raw = read_file(target, MANIFEST)
    manifest = raw.decode() if raw is not None else ""
    if target.role != "control-plane" or "--initial-cluster-state=existing" not in manifest:
        raise LabError(f"node {node} runs no etcd member that joined an existing cluster", title="Fault cannot apply",
                       hint="take a control-plane node that joined after the first (control-plane3 on kind)")
    helper = peer(ctx, target)
    listed = members(helper)
    mine = [m for m in listed if m.name == target.container]
    if not mine or _initial_cluster_size(manifest) != len(listed):
        raise LabError(f"the etcd member on {node} is not one a remove and add can bring back as it is configured "
                       f"(its --initial-cluster must name all {len(listed)} members)", title="Fault cannot apply")
    me = mine[0]
    if leader(helper) == me.id:
        other = next(m for m in listed if m.id != me.id)
        etcdctl(target, f"move-leader {other.hex_id}")
    aside = ctx.cluster.state_dir / "etcd-data" / target.short_name
    recorded = ctx.ledger.record(EtcdMemberState(node=target.short_name, name=me.name, member_id=me.id,
                                                 peer_url=me.peer_urls[0], aside=str(aside)))
    _stop_member(target)
    if recorded:  # a second injection before reset keeps the data the first one put aside
        shutil.rmtree(aside, ignore_errors=True)
        aside.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        run(["docker", "cp", "-a", f"{target.container}:{MEMBER_DIR}", str(aside)], timeout=300,
            context=f"keeping the etcd data of {node} aside")
    target.sh(f"rm -rf {MEMBER_DIR}")
    _start_member(target)
    try:
        wait_until(lambda: not member_healthy(ctx, target, me.peer_urls[0]) or Pending("the member still answers"),
                   timeout=60, interval=2, what=f"the etcd member on {node} to fail", retry_on=(CommandError,))
    except TimedOut:
        raise LabError(f"the etcd member on {node} runs healthy without its data", title="Fault did not take") from None


def undo_etcd_member(ctx, entry: EtcdMemberState) -> None:
    target = ctx.node(entry.node)
    _start_member(target)  # a kill while the member was stopped left its manifest aside
    if member_healthy(ctx, target, entry.peer_url):
        shutil.rmtree(entry.aside, ignore_errors=True)
        return
    helper = peer(ctx, target)
    found = [m for m in members(helper) if entry.peer_url in m.peer_urls]
    aside = Path(entry.aside)
    _stop_member(target)
    if found and found[0].id == entry.member_id and aside.is_dir():
        # still the member it was: its own data back, the leader sends it what it missed
        target.sh(f"rm -rf {MEMBER_DIR}")
        run(["docker", "cp", "-a", str(aside), f"{target.container}:{MEMBER_DIR}"], timeout=300,
            context=f"giving the etcd member on {entry.node} its data back")
    else:
        # removed, or added again, by a repair left half-way: finish it as the solution does
        for member in found:
            etcdctl(helper, f"member remove {member.hex_id}")
        etcdctl(helper, f"member add {shlex.quote(entry.name)} --peer-urls={shlex.quote(entry.peer_url)}")
        target.sh(f"rm -rf {MEMBER_DIR}")
    _start_member(target)
    try:
        wait_until(lambda: member_healthy(ctx, target, entry.peer_url) or Pending("not healthy yet"), timeout=180,
                   interval=2, what=f"the etcd member on {entry.node} to be healthy", retry_on=(CommandError,))
    except TimedOut as exc:
        raise UndoFailed(exc.message, hint=f"cka-lab ssh {entry.node} -- crictl logs $(crictl ps -a -q --name '^etcd$' "
                                           "| head -1)") from None
    shutil.rmtree(aside, ignore_errors=True)
