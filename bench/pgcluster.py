"""A throwaway PostgreSQL cluster for `scripts/bench --database postgresql`, as scripts/test starts one."""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for candidate in found:
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise SystemExit("PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql")


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def cluster():
    """Yields `make_url(name)`: a fresh, empty database of that name in the cluster, as a SQLAlchemy URL."""
    bins = bindir()
    root = Path(tempfile.mkdtemp(prefix="tracker-bench-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    data = root / "data"
    subprocess.run(_as_owner([str(bins / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                              "--locale=C", "--no-sync"]), check=True, capture_output=True)
    # Settings of a modest production server, not of a test cluster: fsync and synchronous commit stay on.
    options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=100 "
               "-c shared_buffers=256MB -c work_mem=16MB")
    subprocess.run(_as_owner([str(bins / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
                              "-o", options, "start"]), check=True, capture_output=True)

    def make_url(name: str) -> str:
        base = ["-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
        subprocess.run([str(bins / "dropdb"), *base, "--if-exists", name], check=True, capture_output=True)
        subprocess.run([str(bins / "createdb"), *base, name], check=True, capture_output=True)
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"

    try:
        yield make_url
    finally:
        subprocess.run(_as_owner([str(bins / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
