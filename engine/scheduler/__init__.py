"""Scheduler policy: pure code over an in-memory cluster view, no Kafka, no DDS, no clock.

- ``cluster``: the cluster view built from heartbeats, with reservations.
- ``fit``: does a request fit a node, and where exactly (NUMA node, GPUs).
- ``plugins``: Filter and Score plugins, each small, each with a reason.
- ``placement``: candidates from indexes -> filters -> scores -> a node, or a diagnosis.
- ``queues``: priorities, weighted fair share between tenants, aging, quotas.
- ``preemption``: the cheapest set of victims that makes room.
- ``scheduler``: one scheduling cycle turning queues and the view into decisions.
- ``records``: the small immutable values they pass around.
- ``compiled``: the same modules compiled with mypyc, used when built for these sources.
"""
from engine.scheduler.compiled import activate

COMPILED = activate(__path__)  # mypyc-compiled modules of these exact sources, when built (see compiled)
