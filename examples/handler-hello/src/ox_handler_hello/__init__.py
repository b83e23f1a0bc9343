"""Example ox handler: answers hello requests dropped into the ledger."""

from ox_handler_hello.handler import HelloHandler

__all__ = ["HelloHandler"]
