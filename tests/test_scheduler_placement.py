"""Placement tables: filters, NUMA, GPU memory, reservations, diagnoses, determinism."""
from __future__ import annotations

import pytest
from msgspec.structs import replace

from engine.scheduler.cluster import ClusterView
from engine.scheduler.errors import QueueFull, Unschedulable
from engine.scheduler.placement import Diagnosis, Placed, Placer
from engine.scheduler.policy import PoolPolicy, Quota, SchedulingPolicy, TenantPolicy
from engine.scheduler.scheduler import Scheduler
from tests.scheduler_builders import job, node


def place(nodes, spec, placer=None):
    return (placer or Placer()).place(spec, ClusterView.from_statuses(nodes))


@pytest.mark.parametrize(
    ("nodes", "spec", "expected"),
    [
        ([node("a", pool="dev"), node("b")], job(pool="dev"), "a"),
        ([node("a"), node("b", labels={"disk": "ssd"})], job(selector={"disk": "ssd"}), "b"),
        ([node("a", draining=True), node("b")], job(), "b"),
        ([node("a", cores_per_numa=1), node("b")], job(millicores=4000), "b"),
        ([node("a", gib_per_numa=2), node("b")], job(gib=8), "b"),
        # best fit: the smaller node that fits is packed first
        ([node("big", cores_per_numa=32), node("small", cores_per_numa=4)], job(millicores=2000), "small"),
        # strict NUMA: 10 cores fit a 2x8 node only across NUMA nodes, so the 2x16 node it is
        ([node("a", cores_per_numa=8), node("b", cores_per_numa=16)], job(millicores=10_000, numa="strict"), "b"),
        # GPU memory: only b has a GPU with 30 GiB free
        ([node("a", gpus=[(80, 20, 0)]), node("b", gpus=[(80, 30, 0)])], job(gpus=1, gpu_gib=24), "b"),
        # best fit on GPU memory: the tightest GPU that fits
        ([node("a", gpus=[(80, 80, 0)]), node("b", gpus=[(80, 26, 0)])], job(gpus=1, gpu_gib=24), "b"),
    ],
)
def test_placement_table(nodes, spec, expected):
    result = place(nodes, spec)
    assert isinstance(result, Placed), result
    assert result.node_id == expected


def test_strict_numa_never_spans_and_gpus_stay_local():
    topo = [node("a", gpus=[(80, 80, 0), (80, 80, 1)])]
    result = place(topo, job(millicores=4000, gpus=1, gpu_gib=10, numa="strict"))
    assert isinstance(result, Placed) and result.fit.single_numa
    numa_id = result.fit.take.numa[0][0]
    gpu = topo[0].gpus[result.fit.take.gpus[0]]
    assert gpu.numa_node == numa_id  # the GPU hangs off the NUMA node of the CPUs
    assert isinstance(place(topo, job(millicores=9000, numa="strict")), Diagnosis)
    assert isinstance(place(topo, job(millicores=9000, numa="preferred")), Placed)


def test_exclusive_gpu_needs_an_idle_gpu():
    view = ClusterView.from_statuses([node("a", gpus=[(80, 80, 0)])])
    placer = Placer()
    first = placer.place(job(gpus=1, gpu_gib=10), view)
    view.reserve("j1/1", first.node_id, first.fit.take, job().resources)
    assert isinstance(placer.place(job(gpus=1, exclusive_gpu=True), view), Diagnosis)
    view.release("j1/1")
    excl = placer.place(job(gpus=1, exclusive_gpu=True), view)
    view.reserve("j2/1", excl.node_id, excl.fit.take, job().resources)
    assert isinstance(placer.place(job(gpus=1, gpu_gib=1), view), Diagnosis)  # nobody shares an exclusive GPU


def test_diagnosis_explains_itself():
    topo = [node("n1", gpus=[(80, 18, 0)], pool="prod"), node("n2", gpus=[(80, 10, 0)], pool="prod"),
            node("n3", pool="dev")]
    result = place(topo, job(gpus=1, gpu_gib=24, pool="prod"))
    assert isinstance(result, Diagnosis)
    assert str(result) == ("0/2 nodes available in pool prod: 2 Insufficient free GPU memory; "
                           "best: n1 gpu0 18.0 GiB free (needs 24.0)")


def test_reservation_holds_until_the_node_reports_the_attempt():
    scheduler = Scheduler()
    scheduler.node_status(node("a", numa=1, cores_per_numa=4))
    spec = job(millicores=3000)
    pending = scheduler.submit(spec, now=0)
    assert [a.node_id for a in scheduler.cycle(now=0).assignments] == ["a"]
    assert scheduler.view.nodes["a"].free_millicores == 1000
    scheduler.node_status(node("a", numa=1, cores_per_numa=4))  # heartbeat not yet showing the attempt
    assert scheduler.view.nodes["a"].free_millicores == 1000
    reported = node("a", numa=1, cores_per_numa=4, job_ids=[pending.key])
    reported = replace(reported, numa=[replace(reported.numa[0], free_millicores=1000)])
    scheduler.node_status(reported)  # the node's own numbers now include it: no double count
    assert scheduler.view.nodes["a"].free_millicores == 1000 and not scheduler.view.reservations
    scheduler.finished(pending.key)
    assert scheduler.view.nodes["a"].free_millicores == 1000  # the next heartbeat gives it back


def test_quotas_and_pools_are_enforced():
    policy = SchedulingPolicy(
        tenants={"t": TenantPolicy(quota=Quota(max_running=2, max_gpus=1, max_queued=3))},
        pools={"default": PoolPolicy(), "dev": PoolPolicy(preemptible=True, max_runtime_s=3600)},
    )
    scheduler = Scheduler(policy)
    scheduler.node_status(node("a", gpus=[(80, 80, 0), (80, 80, 1)]))
    with pytest.raises(Unschedulable, match="exceeds pool dev cap"):
        scheduler.submit(job("t", pool="dev", timeout_s=7200), now=0)
    with pytest.raises(Unschedulable, match="unknown pool 'gpu'"):
        scheduler.submit(job("t", pool="gpu"), now=0)
    for spec in (job("t", gpus=1, gpu_gib=1), job("t", gpus=1, gpu_gib=1), job("t")):
        scheduler.submit(spec, now=0)
    with pytest.raises(QueueFull):
        scheduler.submit(job("t"), now=0)
    assert len(scheduler.queues) == 3  # the refused submission changed nothing
    result = scheduler.cycle(now=1)
    assert len(result.assignments) == 2  # one GPU job (max_gpus=1) and the CPU job (max_running=2)
    assert sum(a.job.spec.resources.gpus for a in result.assignments) == 1
    waiting = next(iter(scheduler.queues._jobs.values()))
    assert waiting.spec.resources.gpus == 1 and waiting.why == "tenant t quota max_gpus=1 reached"


def test_same_inputs_same_decisions():
    specs = [job(f"t{i % 3}", millicores=500 * (1 + i % 5), gpus=i % 2, gpu_gib=(i % 2) * 20) for i in range(200)]

    def run():
        scheduler = Scheduler()
        for i in range(20):
            scheduler.node_status(node(f"n{i:02}", gpus=[(80, 40 + i, i % 2)]))
        for spec in specs:
            scheduler.submit(spec, now=0)
        return [(a.job.key, a.node_id, a.placement) for a in scheduler.cycle(now=1).assignments]

    first = run()
    assert first and first == run()
