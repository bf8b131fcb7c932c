"""Why a conversion stopped. Bad media is final; the rest may pass when tried again."""


class BadMedia(Exception):
    """The upload can't be converted; the message tells the uploader what to do."""


class Cancelled(Exception):
    """The uploader cancelled the conversion."""


class Stalled(Exception):
    """ffmpeg stopped making progress or ran out of time; another attempt may succeed."""


class HandOff(Exception):
    """The worker is shutting down; the job goes back to the queue for another worker."""
