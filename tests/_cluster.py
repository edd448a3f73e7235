"""Several ``uvicorn layercache_asgi:app`` processes on one PostgreSQL database, behind HAProxy.

The replicas are real processes (each its own semantic index, warm-up gate, template cache)
sharing only the database; the load balancer is Debian's HAProxy, round robin, a new
backend choice for every request.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def haproxy_binary() -> str:
    binary = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if os.path.exists(p)), None)
    if binary is None:
        pytest.skip("HAProxy is not installed (scripts/setup-test-env.sh installs it: apt-get install haproxy)")
    return binary


@dataclass
class Cluster:
    replicas: list[str]  # base URLs, in start order
    balancer: str  # the HAProxy front end
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    database_url: str = ""

    def kill(self, index: int) -> None:
        """SIGKILL a replica: no shutdown, nothing released."""
        self.processes[index].send_signal(signal.SIGKILL)
        self.processes[index].wait(10)

    def log(self, index: int) -> str:
        return self.logs[index].read_text(errors="replace")


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, *, semantic: bool) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"replica exited ({process.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            health = httpx.get(f"{url}/health", timeout=2).json()
            if health.get("status") == "healthy" and (health.get("semantic_cache") or not semantic):
                return
        time.sleep(0.2)
    raise RuntimeError(f"replica {url} did not become healthy:\n{log.read_text(errors='replace')[-3000:]}")


def _haproxy_config(port: int, replicas: list[int]) -> str:
    servers = "\n".join(f"    server r{i} 127.0.0.1:{p}" for i, p in enumerate(replicas))
    return f"""global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    option http-server-close
frontend front
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
    balance roundrobin
{servers}
"""


@contextlib.contextmanager
def cluster(config: dict[str, Any], tmp: Path, *, size: int = 3) -> Iterator[Cluster]:
    """``size`` replicas with ``config`` (a config file's contents), behind HAProxy."""
    haproxy = haproxy_binary()
    config_file = tmp / "layercache.yaml"
    config_file.write_text(yaml.safe_dump(config))
    env = {**os.environ, "LAYERCACHE_CONFIG": str(config_file), "PYTHONPATH": str(REPO)}
    env.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    ports = [free_port() for _ in range(size)]
    processes: list[subprocess.Popen[bytes]] = []
    logs: list[Path] = []
    balancer: subprocess.Popen[bytes] | None = None
    try:
        for i, port in enumerate(ports):
            log = tmp / f"replica-{i}.log"
            logs.append(log)
            command = [sys.executable, "-m", "uvicorn", "layercache_asgi:app", "--host", "127.0.0.1"]
            command += ["--port", str(port), "--no-proxy-headers", "--log-level", "warning"]
            with log.open("wb") as out:
                processes.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=tmp))
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        semantic = bool(config.get("caching", {}).get("semantic", {}).get("enabled"))
        for url, process, log in zip(urls, processes, logs, strict=True):
            _wait_healthy(url, process, log, semantic=semantic)
        front = free_port()
        haproxy_cfg = tmp / "haproxy.cfg"
        haproxy_cfg.write_text(_haproxy_config(front, ports))
        balancer = subprocess.Popen([haproxy, "-f", str(haproxy_cfg), "-db"], stderr=subprocess.PIPE)
        _wait_healthy(f"http://127.0.0.1:{front}", balancer, log=logs[0], semantic=semantic)
        yield Cluster(urls, f"http://127.0.0.1:{front}", processes, logs, config["database"]["url"])
    finally:
        for process in [*processes, *([balancer] if balancer else [])]:
            if process.poll() is None:
                process.terminate()
        for process in [*processes, *([balancer] if balancer else [])]:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
