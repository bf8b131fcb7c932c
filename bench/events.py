"""Event streams: 500 concurrent `GET /api/videos/<id>/events` on one web process: memory and CPU.

One gunicorn process (WEB_CONCURRENCY=1), no worker; one `queued` video whose stream stays open.
500 clients (asyncio, one connection each) ask for its stream and wait up to a deadline for the
first event. Then the web process's RSS and threads are read, its CPU is measured while the
streams sit idle, and again while 4 changes a second are published on the video's channel as a
running job would (after setting it `processing` in the database), counting what each stream gets.

It runs twice: as the Procfile configures web (gunicorn.conf.py's threads, MAX_EVENT_STREAMS's
default) and sized for 500 streams (WEB_THREADS and MAX_EVENT_STREAMS raised), to show both what a
dyno does today and what holding 500 streams costs. "skipped: endpoint missing" when it 404s.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from dataclasses import dataclass, field

from bench.common import Figure, clip, log, main
from bench.harness import Running, cpu_seconds, status_kib

STREAMS = 500
RATE = 4  # changes a second, as the job's progress throttle publishes


def settings(quick: bool) -> dict:
    return {"streams": 200 if quick else STREAMS, "connect_deadline": 15, "idle": 5 if quick else 10,
            "changes": 12 if quick else 40}


@dataclass
class Client:
    status: int | None = None
    events: list[float] = field(default_factory=list)
    error: str = ""


async def _follow(host: str, port: int, path: str, token: str, client: Client) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError as exc:
        client.error = type(exc).__name__
        return
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Accept: text/event-stream\r\n\r\n".encode())
        await writer.drain()
        client.status = int((await reader.readline()).split()[1])
        while (await reader.readline()).strip():
            pass  # headers
        if client.status != 200:
            return
        while line := await reader.readline():
            if line.startswith(b"data:"):
                client.events.append(time.monotonic())
    except (OSError, IndexError, ValueError) as exc:
        client.error = type(exc).__name__
    finally:
        writer.close()


def _healthz(port: int) -> float | None:
    """Seconds for GET /healthz from the same web process while the streams are open; None if none came."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    started = time.monotonic()
    try:
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        return time.monotonic() - started
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


async def _hold(stack: Running, path: str, cfg: dict, publish) -> dict:
    host, port = "127.0.0.1", stack.stack.port
    clients = [Client() for _ in range(cfg["streams"])]
    tasks = [asyncio.create_task(_follow(host, port, path, stack.token, c)) for c in clients]
    opened = time.monotonic()
    deadline = opened + cfg["connect_deadline"]
    while time.monotonic() < deadline and not all(c.events or c.status not in (None, 200) or c.error
                                                  for c in clients):
        await asyncio.sleep(0.05)
    settled = time.monotonic() - opened
    served = [c for c in clients if c.events]
    result = {"served": len(served), "settled": settled,
              "refused": sum(1 for c in clients if c.status not in (None, 200)),
              "unanswered": sum(1 for c in clients if c.status is None and not c.error),
              "errors": sum(1 for c in clients if c.error),
              "statuses": [c.status for c in clients if c.status is not None]}
    if served:
        result.update(await publish(clients))
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return result


def one_setup(quick: bool, label: str, **settings_: str) -> dict:
    cfg = settings(quick)
    with Running(workers=0, WEB_CONCURRENCY="1", **settings_) as stack:
        video_id = stack.upload(clip(2, 640, 360, 30), title="events")["id"]
        path = f"/api/videos/{video_id}/events"
        (pid,) = stack.web_pids()
        time.sleep(0.5)
        idle_kib = status_kib(pid, "VmRSS")

        async def publish(clients: list[Client]) -> dict:
            found = {"rss_kib": status_kib(pid, "VmRSS"), "threads": status_kib(pid, "Threads"),
                     "healthz": await asyncio.to_thread(_healthz, stack.stack.port)}
            cpu = cpu_seconds(pid)
            await asyncio.sleep(cfg["idle"])
            found["idle_cpu"] = (cpu_seconds(pid) - cpu) / cfg["idle"]
            before = {id(c): len(c.events) for c in clients}
            stack.set_state(video_id, "processing")
            redis = stack.client()
            cpu, started = cpu_seconds(pid), time.monotonic()
            for k in range(cfg["changes"]):
                redis.publish(f"conveyor:videos:{video_id}",
                              json.dumps({"id": video_id, "state": "processing", "status": round(0.01 * (k + 1), 4)}))
                await asyncio.sleep(max(0.0, started + (k + 1) / RATE - time.monotonic()))
            await asyncio.sleep(1.0)  # let the last change arrive
            found["busy_cpu"] = (cpu_seconds(pid) - cpu) / (time.monotonic() - started)
            found["busy_rss_kib"] = status_kib(pid, "VmRSS")
            got = [len(c.events) - before[id(c)] for c in clients if c.events]
            found["delivered"] = sum(got) / (len(got) * cfg["changes"]) if got else 0.0
            return found

        result = asyncio.run(_hold(stack, path, cfg, publish))
        result["idle_kib"] = idle_kib
    statuses = set(result.pop("statuses"))
    if statuses == {404}:
        return {"skip": "skipped: endpoint missing"}
    if not result["served"] and statuses:
        return {"skip": f"skipped: the endpoint answers {sorted(statuses)}"}
    log(f"{label}: {result['served']}/{cfg['streams']} streams got their first event in "
        f"{result['settled']:.1f} s ({result['refused']} refused, {result['unanswered']} unanswered, "
        f"{result['errors']} errors); RSS {idle_kib / 1024:.1f} -> {result['rss_kib'] / 1024:.1f} MiB, "
        f"{result['threads']} threads; CPU idle {100 * result['idle_cpu']:.1f} %, "
        f"with {RATE} changes/s {100 * result['busy_cpu']:.1f} %; {100 * result['delivered']:.0f} % delivered")
    return result


def run(quick: bool) -> list[Figure]:
    cfg = settings(quick)
    n = cfg["streams"]
    setups = {
        "as configured": {},
        f"sized for {n}": {"WEB_THREADS": str(n + 16), "MAX_EVENT_STREAMS": str(n)},
    }
    figures = []
    for label, extra in setups.items():
        result = one_setup(quick, label, **extra)
        if "skip" in result:
            log(result["skip"])
            return [Figure("events", f"{n} streams", None, "", note=result["skip"])]
        served, idle = result["served"], result["idle_kib"] / 1024
        figures += [
            Figure("events", f"{label}: streams served of {n}", served, "streams", goal=f"{n} served",
                   met=served == n, note=f"{result['refused']} refused (503), {result['unanswered']} unanswered"),
            Figure("events", f"{label}: web RSS with them open", result["rss_kib"] / 1024, "MiB", idle, "idle",
                   note=f"{result['threads']} threads; "
                        f"{(result['rss_kib'] - result['idle_kib']) / max(served, 1):.0f} KiB a stream"),
            Figure("events", f"{label}: GET /healthz with them open",
                   None if result["healthz"] is None else 1000 * result["healthz"], "ms",
                   note="no answer in 10 s" if result["healthz"] is None else "same web process"),
            Figure("events", f"{label}: web CPU, streams idle", 100 * result["idle_cpu"], "%",
                   note="of one core"),
            Figure("events", f"{label}: web CPU, {RATE} changes/s", 100 * result["busy_cpu"], "%",
                   note=f"of one core; {100 * result['delivered']:.0f} % of changes delivered; "
                        f"RSS then {result['busy_rss_kib'] / 1024:.1f} MiB"),
        ]
    return figures


if __name__ == "__main__":
    main(run)
