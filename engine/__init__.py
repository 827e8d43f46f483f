"""Sluice engine: the job model, scheduler policy, coordinator, SDK and CLI."""
from engine.compiled import activate_scheduler

activate_scheduler()  # the scheduler's mypyc-compiled modules, when built for these exact sources
