"""From `ready` to told: how long after a video turns `ready` its callback and its mail arrive.

The stack runs as users run it (gunicorn, `python worker.py`, its own redis-server) with a real
HTTP receiver and a real SMTP server (aiosmtpd) on loopback. Each run uploads a tiny clip with a
`callback_url`, by a user with an e-mail address, and measures from the video's `finished_at`
(written by the worker in the same commit that makes it `ready`) to the moment the receiver got
the POST and the moment the SMTP server got the mail. Nothing else is queued.

Two set-ups: one worker (it converts, then finds the notifications waiting on `high`), and one
converting worker plus one idle worker (that one takes the notifications while the other is
still wrapping up). The goal is a median under one second.
"""

from __future__ import annotations

from bench.common import Figure, clip, log, main, median
from bench.harness import Running
from tests.receivers import HttpReceiver, MailReceiver, wait_for

GOAL = 1.0
EMAIL = "notify@example.com"


def measure(workers: int, runs: int) -> tuple[list[float], list[float]]:
    source = clip(1, 320, 240)
    callbacks: list[float] = []
    mails: list[float] = []
    with HttpReceiver("127.0.0.1") as receiver, MailReceiver() as mail:
        settings = {
            "CALLBACK_ALLOWED_NETWORKS": "127.0.0.1/32",
            "MAIL_URL": f"{mail.url}?starttls=never",
            "MAIL_FROM": "Conveyor <conveyor@example.com>",
        }
        with Running(workers=workers, **settings) as run:
            session = run.stack.create_user("notify", email=EMAIL)
            for index in range(runs):
                path = f"/run-{workers}-{index}"
                response = run.stack.upload(session, source, callback_url=receiver.url(path))
                response.raise_for_status()
                video_id = response.json()["id"]
                if run.stack.wait_final(session, video_id, timeout=120)["state"] != "ready":
                    raise RuntimeError("the benchmark's clip did not convert")
                [request] = wait_for(lambda p=path: receiver.at(p), timeout=60, what="the callback")
                [received] = wait_for(lambda n=index + 1: len(mail.to(EMAIL)) >= n and mail.to(EMAIL)[n - 1:],
                                      timeout=60, what="the mail")
                ready_at = run.times(video_id)["finished"]
                callbacks.append(request.at - ready_at)
                mails.append(received.at - ready_at)
                log(f"{workers} worker(s), run {index + 1}: callback {callbacks[-1] * 1000:.0f} ms, "
                    f"mail {mails[-1] * 1000:.0f} ms after ready")
    return callbacks, mails


def run(quick: bool) -> list[Figure]:
    runs = 3 if quick else 7
    figures = []
    for workers, label in ((1, "the converting worker, then idle"), (2, "one more worker, idle")):
        callbacks, mails = measure(workers, runs)
        for what, samples in (("callback", callbacks), ("mail", mails)):
            value = median(samples)
            figures.append(Figure(
                "notify_latency", f"ready -> {what} received, {label}", value, "s",
                goal=f"< {GOAL:g} s", met=value is not None and value < GOAL,
                note=f"median of {len(samples)}, max {max(samples):.3f} s", samples=samples,
            ))
    return figures


if __name__ == "__main__":
    main(run)
