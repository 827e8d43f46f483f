"""The coordinator: one per host; node agent always, leader duties while it holds the leader role."""
