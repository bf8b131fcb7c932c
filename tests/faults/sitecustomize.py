"""Faults a test injects into a real worker process, by job id, from `CONVEYOR_TEST_FAULTS`:

- `fail:<glob>`: the job raises instead of running (every attempt), as a job that breaks would;
- `kill-after:<glob>`: once the job has run well, the whole worker (its process group) is killed
  before RQ records the job finished: a dyno that dies between a job's work and its bookkeeping;
- `hold-after:<glob>`: once the job has run well, it waits until the file named by
  `CONVEYOR_TEST_RELEASE` exists before RQ records it finished: jobs held so on several workers end
  at the same moment.

Loaded at interpreter start from this folder on PYTHONPATH (Python imports `sitecustomize` by
itself); with the variable unset it does nothing. Only tests put this folder on the path.
"""

from __future__ import annotations

import os

FAULTS = [part.split(":", 1) for part in os.environ.get("CONVEYOR_TEST_FAULTS", "").split(",") if ":" in part]

if FAULTS:
    import fnmatch
    import signal

    from rq.job import Job
    from rq.worker import Worker

    def _matches(kind: str, job_id: str) -> bool:
        return any(k == kind and fnmatch.fnmatchcase(job_id, pattern) for k, pattern in FAULTS)

    perform = Job.perform

    def failing_perform(self, *args, **kwargs):
        if _matches("fail", self.id):
            raise RuntimeError("injected fault")
        return perform(self, *args, **kwargs)

    handle_job_success = Worker.handle_job_success

    def dying_handle_job_success(self, job, *args, **kwargs):
        if _matches("hold-after", job.id):
            import time
            from pathlib import Path

            release = Path(os.environ["CONVEYOR_TEST_RELEASE"])
            while not release.exists():
                time.sleep(0.01)
        if _matches("kill-after", job.id):  # RQ's work horse runs in a session of its own: the worker's too
            os.killpg(os.getpgid(os.getppid()), signal.SIGKILL)
            os.kill(os.getpid(), signal.SIGKILL)
        return handle_job_success(self, job, *args, **kwargs)

    Job.perform = failing_perform
    Worker.handle_job_success = dying_handle_job_success
