"""Input the domain refuses. The API answers it as `{"error": message}` with `status`, the pages as
their error page or form message, the commands as their error line: one message for all three."""


class Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Cancelled(Exception):
    """The uploader cancelled the conversion, or deleted the video, while it ran: nothing is kept."""
