"""Fake CLIs for the runner tests: small shell scripts, written per test, that replay the
recorded real output in `data/<case>/` (stdout, stderr, exit_code) or misbehave on purpose.

A fake records its arguments (`argv`) and what it read on stdin (`stdin`). Exit code 124 in a
recording means the recording harness killed the CLI: the fake replays the output, then hangs.

(Test modules cannot import this file under `--import-mode=importlib`: everything they need
is reached through the `fake_cli` and `wait_dead` fixtures.)
"""

from __future__ import annotations

import itertools
import shlex
import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path

import attrs
import pytest
import trio

DATA = Path(__file__).parent / "data"
_counter = itertools.count()


@attrs.define
class FakeCli:
    path: Path
    dir: Path

    def argv(self) -> list[str]:
        return (self.dir / "argv").read_text().splitlines()

    def stdin(self) -> str:
        return (self.dir / "stdin").read_text()

    def child_pid(self) -> int:
        return int((self.dir / "child").read_text())


@attrs.frozen
class Reply:
    """What the fake answers to a subcommand (matched on its leading arguments)."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0
    hang: bool = False


def recorded(case: str) -> tuple[bytes, bytes, int]:
    folder = DATA / case
    return (
        (folder / "stdout").read_bytes(),
        (folder / "stderr").read_bytes(),
        int((folder / "exit_code").read_text().split()[0]),
    )


def alive(pid: int) -> bool:
    """Running (a zombie left for init to reap counts as gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] != "Z"


@pytest.fixture
def wait_dead() -> Callable[[int], Awaitable[bool]]:
    """`await wait_dead(pid)`: True once `pid` is gone (SIGKILL lands asynchronously; a
    process that is not our child cannot be waited for, so /proc is polled for 2 s)."""

    async def wait(pid: int) -> bool:
        with trio.move_on_after(2):
            while alive(pid):  # noqa: ASYNC110
                await trio.sleep(0.01)
        return not alive(pid)

    return wait


class FakeCliFactory:
    """`fake_cli(name, case=..., stdout=..., stderr=..., exit_code=..., hang=..., fork_child=...,
    replies={"auth status": fake_cli.Reply(...)})` writes an executable `name`, returns a
    `FakeCli`. `fake_cli.data`: the recorded cases."""

    Reply = Reply
    data = DATA

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path

    def __call__(
        self,
        name: str,
        *,
        case: str | None = None,
        stdout: str | bytes = b"",
        stderr: str | bytes = b"",
        exit_code: int = 0,
        hang: bool = False,
        fork_child: bool = False,
        replies: Mapping[str, Reply] | None = None,
    ) -> FakeCli:
        folder = self.tmp_path / f"fake{next(_counter)}"
        folder.mkdir()
        if case is not None:
            stdout, stderr, exit_code = recorded(case)
            if exit_code == 124:
                hang, exit_code = True, 1
        (folder / "stdout").write_bytes(stdout.encode() if isinstance(stdout, str) else stdout)
        (folder / "stderr").write_bytes(stderr.encode() if isinstance(stderr, str) else stderr)
        d = shlex.quote(str(folder))
        lines = ["#!/bin/sh", f"D={d}", 'case "$*" in']
        for i, (args, reply) in enumerate((replies or {}).items()):
            (folder / f"reply{i}.out").write_text(reply.stdout)
            (folder / f"reply{i}.err").write_text(reply.stderr)
            body = f'cat "$D/reply{i}.out"; cat "$D/reply{i}.err" >&2; '
            body += "exec sleep 300" if reply.hang else f"exit {reply.exit_code}"
            lines.append(f"  {shlex.quote(args)}|{shlex.quote(args + ' ')}*) {body};;")
        lines += [
            "esac",
            'printf \'%s\\n\' "$@" > "$D/argv"',
            'cat > "$D/stdin"',
        ]
        if fork_child:
            lines.append("(trap '' TERM; exec sleep 300) & echo $! > \"$D/child\"")
        lines += ['cat "$D/stdout"', 'cat "$D/stderr" >&2']
        if hang:
            lines += ["trap '' TERM", "sleep 300"]
        lines.append(f"exit {exit_code}")
        path = folder / name
        path.write_text("\n".join(lines) + "\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
        return FakeCli(path=path, dir=folder)


@pytest.fixture
def fake_cli(tmp_path: Path) -> FakeCliFactory:
    return FakeCliFactory(tmp_path)
