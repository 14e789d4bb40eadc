"""The one kind of error whose message is written for users: work on a server, a tool or the host could
not be done. The message holds no SQL and no secret; anything else that fails stays in the emulator's log."""


class Failure(Exception):
    """Work could not be done; the message says why, for users."""
