"""Errors a user can act on. Their message is shown as is: one line, no secret, what to do."""


class UserError(Exception):
    """A problem with the user's input or environment, not a bug; shown without a traceback."""
