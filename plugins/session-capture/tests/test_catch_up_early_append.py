"""A catch-up appends its blocks to `raw.jsonl` as it converts them, ahead of the commit
(`journal.EarlyAppend`). Killed with -9 at any point of that (after some blocks, after the
fsync, before the slot), the next catch-up leaves every line exactly once, the same
`raw.jsonl` as a catch-up that never stopped. A recording whose bytes past the commit are
not cut off by settling (stopped: they are its footer) gets no early append. Real processes,
real signals, real files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ox_session_capture.commit_slots import set_committed
from ox_session_capture.journal import EarlyAppend, MarkerFile
from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW, RecordingMarker, read_marker, update_marker
from ox_session_capture.recover import catch_up, recover_recording
from ox_session_capture.testing import claude_assistant, claude_user
from ox_session_capture.testing.fixtures import home as home
from ox_session_capture.testing.fixtures import src as src


def session_lines(count: int) -> bytes:
    body = []
    for n in range(count):
        call = f"toolu_{n}"
        block = {"type": "tool_use", "id": call, "name": "Bash", "input": {"command": f"ls {n}"}}
        body.append(claude_assistant(f"a{n}", [block]))
        body.append(claude_user(f"r{n}", [{"type": "tool_result", "tool_use_id": call,
                                           "content": f"out {n} " * 30}]))  # fmt: skip
    return b"".join(body)


def missed_everything(session_dir: Path) -> None:
    """The recording begun with the file that the watcher never followed."""
    raw = session_dir / RAW

    def reset(marker: RecordingMarker) -> None:
        marker.source_offset = marker.start_offset = 0
        set_committed(marker, raw.stat().st_size)

    update_marker(session_dir, reset)


def entries(session_dir: Path) -> bytes:
    return (session_dir / RAW).read_bytes().split(b"\n", 1)[1]  # the header names it


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from ox_session_capture import journal, tail as tail_mod
    from ox_session_capture.recover import catch_up, recover_recording

    session_dir, home = Path(sys.argv[1]), Path(sys.argv[2])
    where, count = sys.argv[3], int(sys.argv[4])
    tail_mod.HELPED_MIN_BYTES = 1  # helpers too, on small blocks, as on a big file
    tail_mod.HELPED_BLOCK_MIN = 256
    tail_mod.CATCH_UP_BATCH_BYTES = 4096
    seen = 0

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if where == "block":
        add = journal.EarlyAppend.add
        def counted(self, data):
            global seen
            add(self, data)  # appended (and its writeback started): then killed
            seen += 1
            if seen == count:
                die()
        journal.EarlyAppend.add = counted
    else:  # after the fsync of the appended bytes, before the slot commits them
        def advance(self, *args):
            die()
        journal.MarkerFile.advance = advance
    catch_up(session_dir, home=home)
    sys.exit(3)  # not killed: the test's plan missed
    """
)


@pytest.mark.parametrize(("where", "count"), [("block", 1), ("block", 3), ("slot", 0)])
def test_a_catch_up_killed_while_appending_early_loses_and_repeats_nothing(
    home: Path, src: Path, ledger: Path, tmp_path: Path, where: str, count: int
) -> None:
    src.write_bytes(session_lines(300))
    (tmp_path / "ref").mkdir()
    reference = create_recording(tmp_path / "ref", "claude-code", src, pid=0, home=home)
    missed_everything(reference.session_dir)
    catch_up(reference.session_dir, home=home)
    want = entries(reference.session_dir)
    assert want.count(b"\n") == 600

    rec = create_recording(ledger, "claude-code", src, pid=0, home=home)
    missed_everything(rec.session_dir)
    before = rec.session_dir / RAW
    size_before = before.stat().st_size
    kill_catch_up(rec.session_dir, home, where, count)
    assert before.stat().st_size > size_before  # it had appended bytes past the commit
    assert read_marker(rec.session_dir).source_offset == 0  # none of them committed

    result = catch_up(rec.session_dir, home=home)
    assert result.offset == src.stat().st_size
    assert entries(rec.session_dir) == want
    assert read_marker(rec.session_dir).entry_count == 600


def kill_catch_up(session_dir: Path, home: Path, where: str, count: int) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(session_dir), str(home), where, str(count)],
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]


def test_finalizing_a_killed_catch_up_whose_source_is_gone_cuts_its_early_bytes(
    home: Path, src: Path, ledger: Path, tmp_path: Path
) -> None:
    """Finalization ends a recording it cannot catch up (its agent's file removed since a
    catch-up was killed) after settling it: the early bytes, which leave no journal, are cut
    off, not kept in the finished recording (nor read again by the session's next part,
    which starts where this one committed)."""
    src.write_bytes(session_lines(300))
    rec = create_recording(ledger, "claude-code", src, pid=0, home=home)
    missed_everything(rec.session_dir)
    raw = rec.session_dir / RAW
    committed = raw.stat().st_size
    kill_catch_up(rec.session_dir, home, "block", 3)
    assert raw.stat().st_size > committed
    src.unlink()

    recover_recording(rec.session_dir, read_marker(rec.session_dir))  # finalization's
    assert raw.stat().st_size == committed
    assert read_marker(rec.session_dir).source_offset == 0


def test_a_stopped_recording_gets_no_early_append(
    home: Path, src: Path, ledger: Path, tmp_path: Path
) -> None:
    """Bytes past a stopped recording's commit are its footer, kept by settling: a catch-up
    that crashed with early bytes there would leave them in the recording."""
    src.write_bytes(session_lines(3))
    rec = create_recording(ledger, "claude-code", src, pid=0, home=home)
    missed_everything(rec.session_dir)
    markers = MarkerFile(rec.session_dir)
    early = EarlyAppend.start(markers)
    assert early is not None  # live, with its commit point: it gets one
    early.close()

    def stop(marker: RecordingMarker) -> None:
        from ox_session_capture.records import now_utc

        marker.stopped_at = now_utc()

    update_marker(rec.session_dir, stop)
    assert EarlyAppend.start(MarkerFile(rec.session_dir)) is None


def test_bytes_left_past_the_commit_are_cut_before_an_early_append(
    home: Path, src: Path, ledger: Path, tmp_path: Path
) -> None:
    """A failed step's bytes past the commit are cut off before the catch-up appends after
    them (else its commit would hold them too, their lines twice)."""
    src.write_bytes(session_lines(20))
    (tmp_path / "ref").mkdir()
    reference = create_recording(tmp_path / "ref", "claude-code", src, pid=0, home=home)
    missed_everything(reference.session_dir)
    catch_up(reference.session_dir, home=home)
    rec = create_recording(ledger, "claude-code", src, pid=0, home=home)
    missed_everything(rec.session_dir)
    with open(rec.session_dir / RAW, "ab") as raw:
        raw.write(b'{"type":"user","content":"a failed step\'s line"}\n')
    catch_up(rec.session_dir, home=home)
    assert entries(rec.session_dir) == entries(reference.session_dir)


def test_a_catch_up_that_fails_mid_batch_leaves_no_early_bytes(
    home: Path, src: Path, ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conversion that fails after some blocks were appended early: the batch will not be
    committed, and its bytes are cut off at once, not left for a reader until the next
    commit or settling."""
    from ox_session_capture import recover
    from ox_session_capture import tail as tail_mod

    src.write_bytes(session_lines(200))
    rec = create_recording(ledger, "claude-code", src, pid=0, home=home)
    missed_everything(rec.session_dir)
    header = (rec.session_dir / RAW).stat().st_size
    monkeypatch.setattr(recover, "CATCH_UP_BATCH_BYTES", 4096)  # many blocks, converted here
    monkeypatch.setattr(tail_mod, "HELPED_MIN_BYTES", 1 << 40)
    convert = tail_mod.SourceTail._convert
    calls = 0

    def failing(self: tail_mod.SourceTail, *args: object) -> object:
        nonlocal calls
        calls += 1
        if calls == 4:
            assert (rec.session_dir / RAW).stat().st_size > header  # three blocks appended
            raise RuntimeError("an adapter bug")
        return convert(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(tail_mod.SourceTail, "_convert", failing)
    with pytest.raises(RuntimeError, match="an adapter bug"):
        catch_up(rec.session_dir, home=home)
    assert (rec.session_dir / RAW).stat().st_size == header
    assert read_marker(rec.session_dir).source_offset == 0
