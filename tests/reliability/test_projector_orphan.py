"""A service killed while its projector process starts leaves no orphan projector.

The projector process arms a death signal (PR_SET_PDEATHSIG) when it starts. A
service SIGKILLed in the second or so between spawning it and that moment used to
leave it running for good, projecting beside the restarted service's own projector
and holding store connections (found after a test run: four such orphans).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from embedded.broker import TansuBroker
from tests.reliability.support import ServiceProcess, create_topics, new_port, service_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _is_projector(pid: int) -> bool:
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _service(kafka_broker: TansuBroker, tmp_path: Path, name: str) -> ServiceProcess:
    """An appraisal service (not started) on a topic of its own."""
    topic = f"{name}-{int(time.time() * 1000)}"
    asyncio.run(create_topics(kafka_broker.bootstrap_servers, topic))
    env = service_env(kafka_broker.bootstrap_servers, topic, tmp_path / "data", new_port())
    return ServiceProcess(env, tmp_path / "service.log")


def _projector_of(service_pid: int, poll_s: float) -> int:
    """The pid of the service's projector process, once it exists (within 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = next((c for c in _children(service_pid) if _is_projector(c)), None)
        if found is not None:
            return found
        time.sleep(poll_s)
    raise AssertionError("the service did not start its projector process")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("delay_s", [0.0, 0.3, 0.8])
def test_a_service_killed_as_its_projector_starts_leaves_no_orphan(
    kafka_broker: TansuBroker, tmp_path: Path, delay_s: float
) -> None:
    service = _service(kafka_broker, tmp_path, f"orphan-{int(delay_s * 10)}")
    service.start()
    assert service.pid is not None
    projector = _projector_of(service.pid, poll_s=0.01)
    time.sleep(delay_s)  # 0 s: inside the projector's start-up, before it arms the signal
    service.kill()
    deadline = time.monotonic() + 20
    while _alive(projector) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(projector), f"projector {projector} outlived its killed service"


def test_ctrl_c_stops_the_service_and_its_projector_without_a_crash(
    kafka_broker: TansuBroker, tmp_path: Path
) -> None:
    """A terminal's Ctrl-C reaches the service and its projector process alike; the
    projector first is the order that made it die of KeyboardInterrupt mid-wait and
    the service log a crash and a restart while it was shutting down."""
    service = _service(kafka_broker, tmp_path, "ctrl-c")
    service.start()
    try:
        service.wait_healthy()
        process = service.process
        assert process is not None
        projector = _projector_of(process.pid, poll_s=0.05)
        time.sleep(2)  # into its loop, waiting between steps
        os.kill(projector, signal.SIGINT)
        time.sleep(1)
        assert _alive(projector), "the projector died of SIGINT"
        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0
        deadline = time.monotonic() + 20
        while _alive(projector) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(projector), "the projector outlived its stopped service"
        text = service.log_path.read_text()
        assert "KeyboardInterrupt" not in text
        assert "projector process exited" not in text
    finally:
        service.stop()  # a failed assertion must not leave the service running
