"""Sluice engine: the job model, scheduler policy, coordinator, SDK and CLI."""
