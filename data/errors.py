"""Errors a user can act on. Their message is shown as is: one line, no secret, what to do."""

from __future__ import annotations

from typing import Any

from configuration.sensitive_data_filter import redact_text


class UserError(Exception):
    """A problem with the user's input or environment, not a bug; shown without a traceback.

    The message passes the log's redaction when the error is made, so that whatever shows it
    (the console, the page, a log line) shows no secret, even one a server echoed back.
    """

    def __init__(self, message: Any = "", *args: Any) -> None:
        super().__init__(redact_text(str(message)), *args)
