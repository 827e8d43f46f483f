"""Scheduler policy: pure code over an in-memory cluster view, no Kafka, no DDS, no clock.

- ``cluster``: the cluster view built from heartbeats, with reservations.
- ``fit``: does a request fit a node, and where exactly (NUMA node, GPUs).
- ``plugins``: Filter and Score plugins, each small, each with a reason.
- ``placement``: candidates from indexes -> filters -> scores -> a node, or a diagnosis.
- ``queues``: priorities, weighted fair share between tenants, aging, quotas.
- ``preemption``: the cheapest set of victims that makes room.
- ``scheduler``: one scheduling cycle turning queues and the view into decisions.
- ``records``: the small immutable values they pass around.

When built, the hot modules are imported compiled with mypyc (see ``engine.compiled``).
"""
