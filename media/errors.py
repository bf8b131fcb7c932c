"""Why the engine could not finish. Bad media is final; a stall may pass when tried again."""


class BadMedia(Exception):
    """The file can't be converted; the message tells the uploader what to do."""


class Stalled(Exception):
    """ffmpeg stopped making progress or ran out of time; another attempt may succeed."""
