"""The data plane against a real broker: durability, read_committed, fencing, topic admin."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid

import psutil
import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

from data_plane.broker import BrokerConfig, LocalBroker
from data_plane.clients import consumer_config, probe_cluster, producer_config, transactional_producer_config
from data_plane.errors import BrokerError, TopicError
from data_plane.topics import TopicSpec, ensure_topics
from engine.model import JobSpec, decode_wire, encode_wire, new_job_id


def consume_all(bootstrap: str, topic: str, expect: int, timeout_s: float = 30.0) -> list[bytes]:
    consumer = Consumer(consumer_config(bootstrap, f"g-{uuid.uuid4().hex}"))
    consumer.subscribe([topic])
    values: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(values) < expect and time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error():
                values.append(msg.value())
                consumer.store_offsets(msg)
        # Give anything unexpected (an aborted or fenced write) a moment to show up.
        extra_deadline = time.monotonic() + 1.0
        while time.monotonic() < extra_deadline:
            msg = consumer.poll(0.2)
            if msg is not None and not msg.error():
                values.append(msg.value())
    finally:
        consumer.close()
    return values


def test_broker_answers_an_admin_round_trip(kafka):
    info = probe_cluster(kafka)
    assert info.brokers == [kafka]
    assert kafka.startswith("127.0.0.1:")


def test_idempotent_produce_then_read_committed_consume(kafka, topics):
    producer = Producer(producer_config(kafka))
    specs = [JobSpec(id=new_job_id(), tenant="team-a", argv=["/bin/echo", str(i)]) for i in range(20)]
    acked: list[str] = []
    for spec in specs:
        producer.produce(topics.jobs, encode_wire(spec), key=spec.id,
                         on_delivery=lambda err, msg: acked.append(msg.key().decode()) if err is None else None)
    assert producer.flush(30) == 0
    assert sorted(acked) == sorted(s.id for s in specs)
    got = [decode_wire(v, JobSpec) for v in consume_all(kafka, topics.jobs, expect=len(specs))]
    assert sorted(got, key=lambda s: s.id) == sorted(specs, key=lambda s: s.id)


def test_aborted_transaction_is_invisible_to_read_committed(kafka, topic):
    producer = Producer(transactional_producer_config(kafka, f"tx-{uuid.uuid4().hex}"))
    producer.init_transactions(30)
    producer.begin_transaction()
    producer.produce(topic, b"aborted")
    producer.abort_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, b"committed")
    producer.commit_transaction(30)
    assert consume_all(kafka, topic, expect=1) == [b"committed"]


def test_second_transactional_producer_fences_the_first(kafka, topic):
    tx_id = f"scheduler-{uuid.uuid4().hex}"
    old = Producer(transactional_producer_config(kafka, tx_id))
    old.init_transactions(30)
    old.begin_transaction()
    old.produce(topic, b"from-old-leader")
    old.commit_transaction(30)

    new = Producer(transactional_producer_config(kafka, tx_id))
    new.init_transactions(30)  # bumps the epoch: the old producer is now fenced

    with pytest.raises(KafkaException) as info:
        old.begin_transaction()
        old.produce(topic, b"from-deposed-leader")
        old.commit_transaction(30)
    error = info.value.args[0]
    assert error.code() == KafkaError._FENCED and error.fatal()

    new.begin_transaction()
    new.produce(topic, b"from-new-leader")
    new.commit_transaction(30)
    assert consume_all(kafka, topic, expect=2) == [b"from-old-leader", b"from-new-leader"]


def test_ensure_topics_is_idempotent_and_checks_layout(kafka, topics):
    assert ensure_topics(kafka, topics.specs(partitions=3)) == []
    with pytest.raises(TopicError, match="exists with 3 partitions"):
        ensure_topics(kafka, topics.specs(partitions=4))
    name = f"t-{uuid.uuid4().hex[:8]}"
    assert ensure_topics(kafka, [TopicSpec(name, 2), TopicSpec(name + "b", 1)]) == sorted([name, name + "b"])


def test_start_fails_clearly_when_the_port_is_taken(kafka, tmp_path):
    port = int(kafka.rsplit(":", 1)[1])
    broker = LocalBroker(BrokerConfig(data_dir=str(tmp_path), port=port, ready_timeout_s=60))
    with pytest.raises(BrokerError, match=f"port {port} on 127.0.0.1 is already in use"):
        broker.start()
    assert broker.info is None
    assert not any(str(tmp_path) in " ".join(p.info["cmdline"] or []) for p in
                   psutil.process_iter(["cmdline"]) if "java" in (p.info["cmdline"] or [""])[0])


def test_attached_broker_dies_with_its_parent(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        from data_plane.broker import BrokerConfig, LocalBroker
        broker = LocalBroker(BrokerConfig(data_dir={str(tmp_path)!r}, ready_timeout_s=120)).start()
        print(broker.info.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        java_pid = int(parent.stdout.readline())
        assert psutil.pid_exists(java_pid)
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(10)
        psutil.Process(java_pid).wait(30)  # raises TimeoutExpired if the broker outlives its parent
    except psutil.NoSuchProcess:
        pass
    finally:
        parent.kill()
    assert not psutil.pid_exists(java_pid) or psutil.Process(java_pid).status() == psutil.STATUS_ZOMBIE
