"""Coordinators as separate processes over loopback DDS with a real Kafka broker."""
from __future__ import annotations

import signal
import subprocess
import time
import uuid

import pytest

from control_plane.election import Action, decide, expected_leader
from control_plane.membership import MembershipSnapshot
from control_plane.messages import LeaderTerm
from engine.model import NodeStatus
from tests.coordinators import SLUICE, CoordinatorProcess, sluice_json, wait_until


@pytest.fixture
def cluster(kafka, dds_domain, tmp_path):
    """Start coordinators on demand; all are stopped (and their logs kept in tmp_path) afterwards."""
    prefix = f"c-{uuid.uuid4().hex[:8]}"
    started: list[CoordinatorProcess] = []

    def start(*nodes: str) -> list[CoordinatorProcess]:
        # A 0.5 s lease: these 2-core machines stall Python processes for a few hundred ms under load.
        procs = [CoordinatorProcess(n, kafka, dds_domain, prefix, tmp_path, lease=0.5) for n in nodes]
        started.extend(procs)
        return procs

    start.domain, start.prefix = dds_domain, prefix
    yield start
    for proc in started:
        if proc.proc.poll() is None:
            proc.signal(signal.SIGCONT)
        proc.stop()


def leader_of(cluster) -> dict:
    return sluice_json("leader", "--domain", str(cluster.domain), "--prefix", cluster.prefix, "--wait", "20")


def elected(procs) -> list[tuple[float, str, int]]:
    return sorted((e["ts"], p.node, e["epoch"]) for p in procs for e in p.events("elected"))


def stable_leader(procs, quiet_s: float = 1.5) -> tuple[float, str, int]:
    """The current leader once no election happened for ``quiet_s`` (start-up is over)."""
    def settled():
        terms = elected(procs)
        return terms and time.time() - terms[-1][0] > quiet_s and terms[-1]
    return wait_until(settled, timeout_s=60)


def test_one_leader_then_failover_with_a_higher_epoch(cluster):
    procs = cluster("n1", "n2", "n3")
    stable_leader(procs)
    first = leader_of(cluster)
    assert first["node"] == "n1" and first["epoch"] >= 1
    assert {node for _, node, _ in elected(procs)} == {"n1"}  # nobody else was ever elected

    procs[0].signal(signal.SIGKILL)
    after = wait_until(lambda: [e for e in elected(procs) if e[2] > first["epoch"]])
    assert after[0][1] == "n2"
    assert wait_until(lambda: (term := leader_of(cluster))["node"] == "n2" and term)["epoch"] > first["epoch"]


def test_paused_leader_steps_down_before_acting(cluster):
    procs = cluster("n1", "n2", "n3")
    _, node, old_epoch = stable_leader(procs)
    assert node == "n1"
    wait_until(lambda: procs[0].events("acted"))
    procs[0].signal(signal.SIGSTOP)
    new_term = wait_until(lambda: [e for e in procs[1].events("elected") if e["epoch"] > old_epoch])[0]
    wait_until(lambda: procs[1].events("acted"))
    procs[0].signal(signal.SIGCONT)
    stepped = wait_until(lambda: procs[0].events("stepped_down"))[0]
    # Either guard may fire first: the pause watcher, or Kafka fencing of an act in flight when stopped.
    assert stepped["epoch"] == old_epoch and ("paused" in stepped["why"] or "fenced" in stepped["why"])
    time.sleep(1.5)
    # After it resumed, the old leader never acted again; only the new leader did.
    assert not [e for e in procs[0].events("acted") if e["ts"] >= new_term["ts"]]
    assert [e for e in procs[1].events("acted") if e["ts"] > stepped["ts"]]
    assert leader_of(cluster)["node"] == "n2"
    assert not [e for e in procs[0].events("elected") if e["ts"] > stepped["ts"]]  # it did not grab it back


def test_membership_follows_joins_leaves_and_crashes(cluster):
    procs = cluster("n1", "n2")
    wait_until(lambda: elected(procs))

    def node_ids():
        view = sluice_json("nodes", "--domain", str(cluster.domain), "--prefix", cluster.prefix, "--wait", "1.5")
        return sorted(n["node_id"] for n in view["nodes"])

    assert wait_until(lambda: node_ids() == ["n1", "n2"])
    procs += cluster("n3")
    assert wait_until(lambda: node_ids() == ["n1", "n2", "n3"])
    procs[1].stop()  # a polite leave disposes its heartbeat
    assert wait_until(lambda: node_ids() == ["n1", "n3"])
    procs[2].signal(signal.SIGKILL)  # a crash: liveliness lapses within the lease
    assert wait_until(lambda: node_ids() == ["n1"])


def test_drain_reaches_the_node_and_the_membership(cluster):
    procs = cluster("n1", "n2")
    wait_until(lambda: elected(procs))
    done = subprocess.run([*SLUICE, "drain", "n2", "--domain", str(cluster.domain), "--prefix", cluster.prefix],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    wait_until(lambda: procs[1].events("draining"))

    def draining():
        view = sluice_json("nodes", "--domain", str(cluster.domain), "--prefix", cluster.prefix, "--wait", "1.5")
        return {n["node_id"]: n["draining"] for n in view["nodes"]}

    assert wait_until(lambda: draining() == {"n1": False, "n2": True})


def test_admission_state_reaches_a_late_joining_reader(cluster):
    procs = cluster("n1")
    wait_until(lambda: procs[0].events("acted"))
    state = sluice_json("admission", "--domain", str(cluster.domain), "--prefix", cluster.prefix, "--wait", "20")
    assert state["leader"] == "n1" and state["queue_depth"] == 0 and state["high_watermark"] > 0


def test_epochs_grow_across_a_full_cluster_restart(cluster):
    procs = cluster("n1", "n2")
    first = wait_until(lambda: elected(procs))[0][2]
    for proc in procs:
        proc.signal(signal.SIGKILL)
        proc.proc.wait(10)
    restarted = time.time()
    again = cluster("n1", "n2")
    later = wait_until(lambda: [e for e in elected(again) if e[0] > restarted])[0][2]
    assert later > first


def status(node: str, draining: bool = False) -> NodeStatus:
    return NodeStatus(node_id=node, draining=draining)


def snapshot(*statuses: NodeStatus) -> MembershipSnapshot:
    return MembershipSnapshot({s.node_id: s for s in statuses})


@pytest.mark.parametrize(
    ("me", "nodes", "mine", "newest", "expected"),
    [
        ("a", [status("a"), status("b")], None, None, Action.CLAIM),
        ("b", [status("a"), status("b")], None, None, Action.NONE),
        ("a", [status("a", draining=True), status("b")], None, None, Action.NONE),  # draining nodes do not lead
        ("a", [status("a"), status("b")], None, LeaderTerm(node="b", epoch=4), Action.NONE),  # follow a live leader
        ("a", [status("a")], None, LeaderTerm(node="b", epoch=4), Action.CLAIM),  # that leader is gone
        ("b", [status("a"), status("b")], LeaderTerm(node="b", epoch=4), LeaderTerm(node="b", epoch=4), Action.NONE),
        ("b", [status("b")], LeaderTerm(node="b", epoch=4), LeaderTerm(node="c", epoch=5), Action.STEP_DOWN),
    ],
)
def test_election_policy_table(me, nodes, mine, newest, expected):
    assert decide(me, snapshot(*nodes), mine, newest) is expected


def test_expected_leader_is_deterministic():
    assert expected_leader(snapshot(status("n3"), status("n1"), status("n2"))) == "n1"
    assert expected_leader(snapshot(status("a", draining=True))) == "a"
    assert expected_leader(snapshot()) is None
