"""One error hierarchy: every error ox reports to a person is an `OxError`, shown as one line."""

from __future__ import annotations


class OxError(Exception):
    """Base of every error ox raises on purpose. `str(err)` is the line shown to a person."""


class ConfigError(OxError):
    """The configuration is invalid (the message names the key and the source)."""


class RunnerError(OxError):
    """An agent run could not be carried out (missing binary, cannot spawn)."""


class LedgerBlockedError(OxError):
    """The whole ledger is blocked for a kind of work (merge conflicts, pushes refused).

    Raised by a handler; the manager pauses that work type with backoff instead of failing
    items one by one.
    """
