"""Live changes of videos for open event streams: one Redis pub/sub connection per web process.

The worker publishes `{"id", "state", "status"}` on `conveyor:videos:<id>` a few times a second.
Rather than one Redis connection per open stream (hosted Redis plans cap connections at a few
dozen), one thread per process listens to every video's channel and hands each message to the
streams watching that video. It runs only while some stream is open.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time

import redis
from flask import Flask, current_app
from redis.exceptions import RedisError

from app.platform.queueing import events_channel

log = logging.getLogger(__name__)

# put in every inbox when messages may have been missed (the listener (re)connected):
# the stream reads the database again
RESYNC = {"resync": True}


class Full(Exception):
    """This process already serves as many streams as it may."""


class Hub:
    def __init__(self, connection: redis.Redis, limit: int, poll_seconds: float = 1.0):
        self._connection = connection
        self._poll = poll_seconds
        self._slots = threading.BoundedSemaphore(max(limit, 1))
        self._lock = threading.Lock()
        self._inboxes: dict[str, set[queue.SimpleQueue]] = {}
        self._thread: threading.Thread | None = None

    def watch(self, video_id: str) -> queue.SimpleQueue:
        """An inbox receiving every change of the video; raises `Full` when no slot is free."""
        if not self._slots.acquire(blocking=False):
            raise Full()
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        with self._lock:
            self._inboxes.setdefault(video_id, set()).add(inbox)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="conveyor-live", daemon=True)
                self._thread.start()
        return inbox

    def unwatch(self, video_id: str, inbox: queue.SimpleQueue) -> None:
        with self._lock:
            watching = self._inboxes.get(video_id, set())
            if inbox not in watching:
                return
            watching.discard(inbox)
            if not watching:
                del self._inboxes[video_id]
        self._slots.release()

    def watched(self) -> int:
        with self._lock:
            return sum(len(inboxes) for inboxes in self._inboxes.values())

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._inboxes:
                    self._thread = None  # the next `watch` starts a fresh listener
                    return
            try:
                self._listen()
            except (RedisError, OSError) as exc:
                log.warning("live updates: redis unavailable (%s); retrying", type(exc).__name__)
                time.sleep(1)

    def _listen(self) -> None:
        pubsub = self._connection.pubsub()
        try:
            pubsub.psubscribe(events_channel("*"))
            while (confirmed := pubsub.get_message(timeout=self._poll)) is None or confirmed["type"] != "psubscribe":
                continue  # from here on, every change is heard
            self._send_all(RESYNC)  # whatever was published before this point was not heard
            while self.watched():
                message = pubsub.get_message(timeout=self._poll)
                if message and message["type"] == "pmessage":
                    self._dispatch(message["data"])
        finally:
            pubsub.close()

    def _dispatch(self, data: bytes) -> None:
        try:
            change = json.loads(data)
            video_id = change["id"]
        except (ValueError, KeyError, TypeError):
            log.warning("live updates: ignoring a malformed message")
            return
        with self._lock:
            inboxes = list(self._inboxes.get(video_id, ()))
        for inbox in inboxes:
            inbox.put(change)

    def _send_all(self, message: dict) -> None:
        with self._lock:
            inboxes = [inbox for watching in self._inboxes.values() for inbox in watching]
        for inbox in inboxes:
            inbox.put(message)


def init_app(app: Flask) -> None:
    app.extensions["live"] = Hub(app.extensions["redis"], app.config["MAX_EVENT_STREAMS"])


def get_hub() -> Hub:
    return current_app.extensions["live"]
