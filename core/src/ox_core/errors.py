"""One error hierarchy: every error ox reports to a person is an `OxError`, shown as one line."""

from __future__ import annotations


class OxError(Exception):
    """Base of every error ox raises on purpose. `str(err)` is the line shown to a person.

    `code` is a short word a program matches instead of the text (an IPC method raising this
    error answers with it, see `ox_core.ipc.ErrorCode`): `refused` by default, or give one,
    `OxError("no such recording: x", code="not_found")`.
    """

    code: str = "refused"

    def __init__(self, *args: object, code: str | None = None) -> None:
        super().__init__(*args)
        if code is not None:
            self.code = code


class ConfigError(OxError):
    """The configuration is invalid (the message names the key and the source)."""


class NotFoundError(OxError):
    """What a request names does not exist (IPC code `not_found`)."""

    code = "not_found"


class RunnerError(OxError):
    """An agent run could not be carried out (missing binary, cannot spawn)."""


class LedgerBlockedError(OxError):
    """The whole ledger is blocked for a kind of work (merge conflicts, pushes refused).

    Raised by a handler; the manager pauses that work type with backoff instead of failing
    items one by one.
    """
