"""The three pipes of a child process, for `ox_core.process`: feed stdin, read stdout up to a
cap, keep the tail of stderr.

`feed` closes stdin once it has written everything (the program's EOF). A pipe is otherwise
left open when its task is cancelled (timeout, overflow, the run cancelled): the run closes
all three once it has stopped the program. Closed at once, stdout or stderr would kill the
program with SIGPIPE at its next write, and stdin would hand it an early EOF on which it may
exit, before the run has noted the processes it started (`RunSweep.remember` needs the
program alive to see its tree): a helper that left the group and cleared its environment
would then outlive the run."""

from __future__ import annotations

import trio

CHUNK = 65536


def close_now(stream: trio.abc.AsyncResource) -> None:
    """Close a pipe now. trio's `FdStream.close()` is synchronous; `aclose()` would add a
    scheduler round per pipe to every run."""
    close = getattr(stream, "close", None)
    if callable(close):
        close()


class Capped:
    """Output collected up to `limit` bytes; `overflow` once more came (the rest is dropped)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.overflow = False


class Heard:
    """When a run's pipes last gave a byte (`trio.current_time()`), and whether it was stopped
    for saying nothing too long (`silent`)."""

    def __init__(self) -> None:
        self.at = trio.current_time()
        self.silent = False


async def read_capped(
    stream: trio.abc.ReceiveStream,
    out: Capped,
    stop: trio.CancelScope,
    heard: Heard | None = None,
) -> None:
    """Read `stream` into `out`; past its limit, mark the overflow and cancel `stop`."""
    try:
        while chunk := await stream.receive_some(CHUNK):
            if heard is not None:
                heard.at = trio.current_time()
            if len(out.data) + len(chunk) > out.limit:
                out.overflow = True
                stop.cancel()
                return
            out.data += chunk
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass


async def read_tail(
    stream: trio.abc.ReceiveStream, tail: bytearray, keep: int, heard: Heard | None = None
) -> None:
    """Read `stream`, keeping (at least) its last `keep` bytes in `tail`."""
    try:
        while chunk := await stream.receive_some(CHUNK):
            if heard is not None:
                heard.at = trio.current_time()
            tail += chunk
            if len(tail) > 2 * keep:
                del tail[: len(tail) - keep]
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass


async def feed(stream: trio.abc.SendStream, data: bytes) -> None:
    """Write `data`, then close (EOF). A program may exit (or never read) before taking it
    all: that is its business, the run's result says what happened. Cancelled, the pipe is
    left open (see the module)."""
    try:
        if data:
            await stream.send_all(data)
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        pass
    close_now(stream)
