"""A one-node Ray cluster on the loopback address, for tests, benchmarks and trying the
``ray_cluster`` launcher on one machine::

    from affiliate_sim.ray_local import LOCAL_RAY, local_ray_cluster
    with local_ray_cluster(cpus=2) as address:   # "127.0.0.1:PORT"
        ...  # run affiliate-sim with env {**LOCAL_RAY, "RAY_ADDRESS": address}

It runs the ``ray`` command of this Python environment (the ``ray`` extra) in a subprocess;
nothing of Ray is imported here.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

#: Environment for a cluster on 127.0.0.1 and its drivers: without the first, Ray swaps the
#: loopback address for the machine's network address, which the cluster does not listen
#: on (and ``ray.init`` then waits forever).
LOCAL_RAY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
RAY = Path(sys.executable).parent / "ray"


def free_ports(n: int) -> list[int]:
    """``n`` distinct TCP ports free on this machine now."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("", 0))
        return [s.getsockname()[1] for s in socks]


def _stop(proc: subprocess.Popen) -> None:
    """Stop ``ray start --block`` (SIGTERM: it stops its cluster), then anything left of it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    try:  # the cluster's processes share the session of `ray start`
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


@contextmanager
def local_ray_cluster(cpus: int, timeout: float = 90.0) -> Iterator[str]:
    """A one-node cluster of ``cpus`` CPUs on 127.0.0.1 for the duration; yields its address.

    Every port is chosen free, and the cluster's temp folder is short (unix socket paths
    are limited) and removed afterwards with every process of the cluster.

    Raises:
        RuntimeError: if the cluster does not come up within ``timeout`` seconds (with the
            end of ``ray start``'s output).
    """
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    port, client, agent, agent_grpc, metrics, node_mgr, obj_mgr, env_agent = free_ports(8)
    address = f"127.0.0.1:{port}"
    env = {**os.environ, **LOCAL_RAY}
    log_path = os.path.join(temp, "ray-start.log")
    log = open(log_path, "w")  # noqa: SIM115  (closed in finally)
    proc = subprocess.Popen(
        [str(RAY), "start", "--head", "--block", f"--port={port}", f"--num-cpus={cpus}",
         "--node-ip-address=127.0.0.1", "--include-dashboard=false",
         "--disable-usage-stats", f"--temp-dir={temp}",
         f"--ray-client-server-port={client}", f"--dashboard-agent-listen-port={agent}",
         f"--dashboard-agent-grpc-port={agent_grpc}", f"--metrics-export-port={metrics}",
         f"--node-manager-port={node_mgr}", f"--object-manager-port={obj_mgr}",
         f"--runtime-env-agent-port={env_agent}"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"ray start exited with {proc.returncode}:\n"
                                   + open(log_path).read()[-3000:])
            up = subprocess.run([str(RAY), "status", "--address", address],
                                capture_output=True, env=env, timeout=60)
            if up.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the Ray cluster did not come up:\n"
                                   + open(log_path).read()[-3000:])
            time.sleep(0.5)
        yield address
    finally:
        _stop(proc)
        log.close()
        shutil.rmtree(temp, ignore_errors=True)
