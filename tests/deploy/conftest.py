"""Fixtures of the deployment tests: promtool, installed on demand where possible."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.deploy.support import unavailable

PROMTOOL_PACKAGE = "prometheus"  # Debian's package ships /usr/bin/promtool


def _apt_install(package: str) -> str:
    """Install a Debian package; an empty string on success, else what went wrong."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for argv in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", package],
    ):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=240)
        if done.returncode != 0:
            return f"`{' '.join(argv)}` failed: {done.stderr.strip()[-500:]}"
    return ""


@pytest.fixture(scope="session")
def promtool() -> str:
    """The promtool binary: on PATH, else installed with apt-get when running as root.

    Missing and not installable: the test fails in CI (CI=true) and skips elsewhere.
    """
    found = shutil.which("promtool")
    if found:
        return found
    problem = "promtool is not on PATH"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        problem = _apt_install(PROMTOOL_PACKAGE) or "apt-get installed no promtool"
        found = shutil.which("promtool")
        if found:
            return found
    elif os.geteuid() != 0:
        problem += " and installing it needs root"
    return unavailable(
        f"{problem}. Install it with: apt-get update && "
        f"apt-get install -y --no-install-recommends {PROMTOOL_PACKAGE}"
    )
