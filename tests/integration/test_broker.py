"""The embedded Tansu broker starts, answers the Kafka protocol, and never outlives us."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from embedded.broker import TansuBroker, kafka_api_versions_ok

pytestmark = pytest.mark.integration


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is dead for our purposes.
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split()[2] != "Z"


def test_a_started_broker_answers_and_a_stopped_one_is_gone() -> None:
    broker = TansuBroker().start()
    pid = broker.pid
    assert pid is not None
    assert kafka_api_versions_ok(broker.host, broker.port)
    broker.stop()
    assert not kafka_api_versions_ok(broker.host, broker.port)
    assert not _alive(pid)
    broker.stop()  # idempotent


def test_a_suspended_broker_can_still_be_stopped() -> None:
    broker = TansuBroker().start()
    broker.suspend()
    assert not kafka_api_versions_ok(broker.host, broker.port, timeout=0.3)
    broker.resume()
    assert kafka_api_versions_ok(broker.host, broker.port)
    broker.suspend()
    broker.stop(timeout=3)


def test_the_broker_dies_with_a_parent_that_was_killed() -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from embedded.broker import TansuBroker
        b = TansuBroker().start()
        print(b.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    broker_pid = int(parent.stdout.readline())
    assert _alive(broker_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 5
    while _alive(broker_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(broker_pid), "broker outlived its killed parent"


async def test_messages_round_trip_through_a_partitioned_topic(
    kafka_bootstrap: str, topic_name: str
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic_name, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for i in range(30):
            await producer.send_and_wait(topic_name, f"m{i}".encode(), key=f"k{i % 5}".encode())
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic_name,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"g-{topic_name}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    got: dict[bytes, set[int]] = {}
    values: set[bytes] = set()
    try:
        deadline = time.monotonic() + 20
        while len(values) < 30 and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for tp, records in batches.items():
                for r in records:
                    assert r.key is not None
                    assert r.value is not None
                    got.setdefault(r.key, set()).add(tp.partition)
                    values.add(r.value)
    finally:
        await consumer.stop()
    assert values == {f"m{i}".encode() for i in range(30)}
    # Same key, same partition: the ordering guarantee per advisor rests on this.
    assert all(len(parts) == 1 for parts in got.values())
