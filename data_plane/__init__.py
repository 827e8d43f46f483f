"""The data plane: Kafka topics, clients, the job event log, and a local broker launcher."""
