"""Status polling: `GET /api/videos/<id>` at 50 concurrent clients against `/healthz`.

Web runs as in the Procfile: gunicorn with gunicorn.conf.py and its defaults (2 processes of 8
threads, access log on). `/healthz` is the baseline: the same app, no authentication, one Redis
PING and one `SELECT 1`. Two videos are polled: a `ready` one (its renditions' signed links are
made on every request) and a `processing` one (the running job's progress is read from Redis on
every request; the video is set `processing` in the database directly, its RQ job left queued,
so no conversion competes for the CPU). The load generator runs on the same 2 cores.
"""

from __future__ import annotations

from bench.common import Figure, clip, log, main, median
from bench.harness import Running
from bench.loadgen import hammer

CLIENTS = 50


def settings(quick: bool) -> dict:
    return {"seconds": 4 if quick else 10, "repeats": 1 if quick else 3}


def run(quick: bool) -> list[Figure]:
    cfg = settings(quick)
    source = clip(2, 1280, 720, 30)
    with Running(workers=1) as stack:
        ready = stack.upload(source, title="ready")["id"]
        if stack.stack.wait_final(stack.session, ready, timeout=120)["state"] != "ready":
            raise RuntimeError("the polling benchmark's clip did not convert")
        stack.scale(0)
        processing = stack.upload(source, title="processing")["id"]
        stack.set_state(processing, "processing")
        auth = {"Authorization": f"Bearer {stack.token}"}
        targets = {
            "/healthz": ("/healthz", {}),
            "ready video": (f"/api/videos/{ready}", auth),
            "processing video": (f"/api/videos/{processing}", auth),
        }
        rates: dict[str, list[float]] = {name: [] for name in targets}
        p99s: dict[str, list[float]] = {name: [] for name in targets}
        p50s: dict[str, list[float]] = {name: [] for name in targets}
        for attempt in range(cfg["repeats"]):
            for name, (path, headers) in targets.items():
                load = hammer(stack.url + path, clients=CLIENTS, seconds=cfg["seconds"], headers=headers)
                if load.errors or set(load.statuses) != {200}:
                    raise RuntimeError(f"{name}: statuses {load.statuses}, {load.errors} errors")
                rates[name].append(load.rate)
                p99s[name].append(load.p(99))
                p50s[name].append(load.p(50))
                log(f"run {attempt + 1}: {name}: {load.rate:.0f} req/s, p50 {load.p(50):.1f} ms, "
                    f"p99 {load.p(99):.1f} ms ({load.requests} requests)")
    base_rate, base_p99 = median(rates["/healthz"]), median(p99s["/healthz"])
    figures = [
        Figure("polling", f"/healthz, {CLIENTS} clients", base_rate, "req/s", samples=rates["/healthz"]),
        Figure("polling", f"/healthz p99, {CLIENTS} clients", base_p99, "ms", samples=p99s["/healthz"]),
    ]
    for name in ("ready video", "processing video"):
        figures += [
            Figure("polling", f"GET {name}, {CLIENTS} clients", median(rates[name]), "req/s",
                   base_rate, "/healthz", samples=rates[name]),
            Figure("polling", f"GET {name} p99", median(p99s[name]), "ms", base_p99, "/healthz",
                   note=f"p50 {median(p50s[name]):.1f} ms", samples=p99s[name]),
        ]
    return figures


if __name__ == "__main__":
    main(run)
