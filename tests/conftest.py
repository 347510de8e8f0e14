"""Shared fixtures: throw-away project folders, the synthetic sample, and the real release.

Every test works in its own project root (ANALYSIS_ROOT), never in the checkout's data/ or
reports/. Expensive inputs (a generated and ingested sample, the ingested real release) are
built once per session and shared read-only.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# ../shared beside the repository, or beside a folder that holds it (a git worktree such as ../wt/<name>)
SHARED_RELEASES = next((p / "shared" / "releases" for p in REPO.parents if (p / "shared" / "releases").is_dir()),
                       REPO.parent / "shared" / "releases")
REAL_RELEASE_ID = "ice-lesa-2019-ICFO-53623-fy2016-2017"
REAL_RELEASE = SHARED_RELEASES / REAL_RELEASE_ID
SAMPLE_ROWS = 3000  # small enough for quick tests, large enough for every planted feature


def make_project(root: Path, *, notebooks: bool = True) -> Path:
    """An empty project folder laid out like the repository (notebooks copied in)."""
    for folder in ("data/raw", "data/processed", "reports"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("# test project\n")
    if notebooks:
        shutil.copytree(REPO / "notebooks", root / "notebooks", dirs_exist_ok=True)
    return root


@contextmanager
def project_env(root: Path) -> Iterator[Path]:
    old = os.environ.get("ANALYSIS_ROOT")
    os.environ["ANALYSIS_ROOT"] = str(root)
    try:
        yield root
    finally:
        if old is None:
            os.environ.pop("ANALYSIS_ROOT", None)
        else:
            os.environ["ANALYSIS_ROOT"] = old


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty project root for this test."""
    root = make_project(tmp_path / "project")
    monkeypatch.setenv("ANALYSIS_ROOT", str(root))
    return root


@pytest.fixture(scope="session")
def _sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from analysis.paths import locate_release
    from analysis.reading.ingest import ingest
    from analysis.sample.generator import SampleSpec, write_sample

    root = make_project(tmp_path_factory.mktemp("sample-project"))
    with project_env(root):
        write_sample(root / "data" / "raw" / "sample", SampleSpec(rows=SAMPLE_ROWS))
        ingest(locate_release("sample"))
    return root


@pytest.fixture
def sample_project(_sample_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root holding the generated and ingested sample (shared: do not modify)."""
    monkeypatch.setenv("ANALYSIS_ROOT", str(_sample_root))
    return _sample_root


@pytest.fixture(scope="session")
def real_release_dir() -> Path:
    if not REAL_RELEASE.is_dir():
        pytest.skip(f"real release not available: {REAL_RELEASE} is absent (it lives in ../shared beside the repo)")
    return REAL_RELEASE


@pytest.fixture(scope="session")
def _real_root(real_release_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from analysis.paths import locate_release
    from analysis.reading.ingest import ingest

    root = make_project(tmp_path_factory.mktemp("real-project"))
    with project_env(root):
        ingest(locate_release(str(real_release_dir)))
    return root


@pytest.fixture
def real_project(_real_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root holding the ingested real release (shared: do not modify)."""
    monkeypatch.setenv("ANALYSIS_ROOT", str(_real_root))
    return _real_root


@dataclass
class HostileReport:
    """The hostile release (tests/hostile_release.py) and its previous release, reported on,
    diffed and exported once per session; what the terminal showed, and any connection made to
    the local address its payloads point at."""

    root: Path
    planted: Path
    payloads: list[str]
    exit_codes: list[int]
    terminal: str
    connections: list[int] = field(default_factory=list)

    @property
    def reports(self) -> Path:
        return self.root / "reports" / "hostile"

    @property
    def exports(self) -> Path:
        return self.root / "data" / "exports" / "hostile"


@contextmanager
def listening() -> Iterator[tuple[str, list[int]]]:
    """A local TCP port that counts the connections made to it: the URL, and the count so far."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections: list[int] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            connections.append(1)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/leak", connections
    finally:
        stop.set()
        thread.join()
        server.close()


@pytest.fixture(scope="session")
def hostile_report(tmp_path_factory: pytest.TempPathFactory) -> HostileReport:
    from analysis.cli import main
    from tests.hostile_release import MARKER, write_release

    root = make_project(tmp_path_factory.mktemp("hostile-project"))
    planted = root.parent / "planted-secret.txt"
    planted.write_text(f"root:x:0:0:{MARKER}:/root:/bin/sh\n")
    raw = root / "data" / "raw"
    terminal = io.StringIO()
    with project_env(root), listening() as (url, connections):
        write_release(raw / "hostile-prev", planted, release="hostile-prev", seed=2, url=url)
        payloads = write_release(raw / "hostile", planted, release="hostile", previous="hostile-prev", seed=1, url=url)
        with redirect_stdout(terminal), redirect_stderr(terminal):
            codes = [main(argv) for argv in (["ingest", "hostile-prev"], ["ingest", "hostile"], ["report", "hostile"],
                                             ["diff", "hostile", "hostile-prev"],
                                             ["export", "hostile", "--format", "csv"])]
        time.sleep(0.5)  # a request the renderer made would have arrived by now
        return HostileReport(root, planted, payloads, codes, terminal.getvalue(), list(connections))
