"""ox handler plugin: session finalization and the session watcher."""

from ox_handler_session_finalize.handler import SessionFinalizeHandler

__all__ = ["SessionFinalizeHandler"]
