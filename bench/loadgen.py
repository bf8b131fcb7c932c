"""A small closed-loop HTTP load generator: N clients, each one keep-alive connection, loopback only.

Clients are threads spread over a few processes (the GIL would cap one process); each sends a
request, reads the whole answer and sends the next, until the time or request budget runs out.
"""

from __future__ import annotations

import http.client
import multiprocessing
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.common import percentile


@dataclass
class Load:
    seconds: float
    requests: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float | None:
        value = percentile(self.latencies, q)
        return None if value is None else 1000 * value


def _client(host: str, port: int, path: str, headers: dict, until: float, budget: int, out: list) -> None:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    latencies, statuses, errors = [], {}, 0
    while time.monotonic() < until and len(latencies) + errors < budget:
        started = time.monotonic()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection(host, port, timeout=30)
            continue
        latencies.append(time.monotonic() - started)
        statuses[response.status] = statuses.get(response.status, 0) + 1
        if response.will_close:
            connection.close()
    connection.close()
    out.append((latencies, statuses, errors))


def _process(url: str, headers: dict, clients: int, start_at: float, seconds: float, budget: int, pipe) -> None:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    out: list = []
    # the parent's monotonic clock is shared on Linux (CLOCK_MONOTONIC is system-wide)
    time.sleep(max(0.0, start_at - time.monotonic()))
    until = time.monotonic() + seconds
    threads = [
        threading.Thread(target=_client, args=(parts.hostname, parts.port, path, headers, until, budget, out))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pipe.send(out)
    pipe.close()


def hammer(url: str, *, clients: int, seconds: float, headers: dict | None = None, processes: int = 2,
           budget_per_client: int = 100_000) -> Load:
    """Keep `clients` requests in flight against `url` for `seconds`; every latency is kept."""
    context = multiprocessing.get_context("spawn")
    start_at = time.monotonic() + 1.5  # every process starts its clients at once, after spawning
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    pipes, procs = [], []
    for share in shares:
        receive, send = context.Pipe(duplex=False)
        proc = context.Process(
            target=_process, args=(url, headers or {}, share, start_at, seconds, budget_per_client, send)
        )
        proc.start()
        pipes.append(receive)
        procs.append(proc)
    load = Load(seconds=seconds)
    for receive in pipes:
        for latencies, statuses, errors in receive.recv():
            load.latencies.extend(latencies)
            load.errors += errors
            for status, count in statuses.items():
                load.statuses[status] = load.statuses.get(status, 0) + count
    for proc in procs:
        proc.join(timeout=30)
    load.requests = len(load.latencies)
    return load
