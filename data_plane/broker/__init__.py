"""A real single-node Apache Kafka broker (KRaft) for development and tests."""
from data_plane.broker.config import BrokerConfig
from data_plane.broker.jars import ensure_jars
from data_plane.broker.launcher import BrokerInfo, LocalBroker, running_broker, stop_running_broker

__all__ = ["BrokerConfig", "BrokerInfo", "LocalBroker", "ensure_jars", "running_broker", "stop_running_broker"]
