"""Following one session file (`SourceTail`, `catch_up`): complete lines only, bad lines
consumed, replaced / truncated / rewritten sources re-read without duplicates, the 10 MiB line
limit, redaction, and coexistence with finalization's catch-up."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture import tail as tail_mod
from ox_session_capture.adapters import load_adapter
from ox_session_capture.confined import UnsafePathError
from ox_session_capture.journal import RecordingGone
from ox_session_capture.raw_lines import FINGERPRINT_SPAN, PrefixPrint, fingerprint
from ox_session_capture.recording import Recording, create_recording
from ox_session_capture.records import (
    MARKER,
    RAW,
    LockTimeout,
    RawEntry,
    lock_file,
    lock_path,
    read_marker,
    update_marker,
)
from ox_session_capture.recover import catch_up, drain
from ox_session_capture.redact import LedgerRedactor
from ox_session_capture.tail import SourceTail, TailError
from ox_session_capture.testing import (
    append,
    claude_text,
    claude_user,
    numbered_user,
    secret_shapes,
)
from ox_session_capture.transcript import read_raw

SECRET_SHAPES = secret_shapes()


def record(ledger: Path, src: Path) -> Recording:
    return create_recording(ledger, "claude-code", src, pid=os.getpid())


def new_tail(rec: Recording, src: Path, **kw: Any) -> SourceTail:
    t = SourceTail(rec.session_dir, load_adapter("claude-code"), src, **kw)
    t.resume()
    return t


def contents(rec: Recording) -> list[str]:
    return [e.content for e in read_raw(rec.session_dir / RAW).entries]


def msgs(*ns: int) -> list[str]:
    return [f"message {n}" for n in ns]


def test_lines_before_the_recording_are_not_captured(ledger: Path, src: Path) -> None:
    append(src, numbered_user(0) + numbered_user(1))
    rec = record(ledger, src)
    append(src, numbered_user(2))
    t = new_tail(rec, src)
    assert drain(t).entries == 1
    assert contents(rec) == msgs(2)
    marker = read_marker(rec.session_dir)
    assert marker.source_offset == src.stat().st_size
    assert marker.entry_count == 1


def test_an_unterminated_last_line_waits_for_its_newline(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src)
    line = numbered_user(0)
    append(src, line[:-10])
    assert not t.step().progressed
    assert read_marker(rec.session_dir).source_offset == 0
    append(src, line[-10:-1])  # still no newline
    assert not t.step().progressed
    append(src, b"\n" + numbered_user(1)[:5])
    result = t.step()
    assert (result.entries, result.consumed) == (1, len(line))
    assert contents(rec) == msgs(0)
    assert read_marker(rec.session_dir).source_offset == len(line)


def test_blank_garbage_and_uninteresting_lines_are_consumed_and_skipped(
    ledger: Path, src: Path
) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src)
    data = b"\n" + b"{garbage\n" + b"\xff\xfe\n" + b'{"type":"attachment"}\n' + numbered_user(0)
    append(src, data)
    assert drain(t).entries == 1
    assert read_marker(rec.session_dir).source_offset == len(data)
    assert contents(rec) == msgs(0)


def test_truncated_source_is_reread_without_duplicates(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src)
    append(src, numbered_user(0) + numbered_user(1) + numbered_user(2))
    drain(t)
    # The agent rewrote its file shorter: one old message kept, one new.
    src.write_bytes(numbered_user(1) + numbered_user(3))
    result = t.step()
    assert result.reset
    drain(t)
    assert contents(rec) == msgs(0, 1, 2, 3)
    marker = read_marker(rec.session_dir)
    assert marker.entry_count == 4
    assert marker.source_offset == src.stat().st_size
    assert marker.start_offset == 0


def test_atomically_replaced_source_is_reread_without_duplicates(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src)
    old = numbered_user(0) + numbered_user(1)
    append(src, old)
    drain(t)
    tmp = src.with_suffix(".tmp")
    tmp.write_bytes(old + numbered_user(2))
    os.replace(tmp, src)
    assert t.step().reset
    assert contents(rec) == msgs(0, 1, 2)


def test_same_size_rewrite_is_detected_by_the_fingerprint(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src)
    append(src, numbered_user(1))
    drain(t)
    with open(src, "r+b") as f:  # same inode, same size, other content
        f.write(numbered_user(2))
    assert t.step().reset
    assert contents(rec) == msgs(1, 2)


@pytest.mark.parametrize("where", ["head", "tail"])
@pytest.mark.parametrize("restarted", [False, True])
def test_a_same_size_rewrite_of_a_long_file_is_detected(
    ledger: Path, src: Path, where: str, restarted: bool
) -> None:
    # Over twice the fingerprint's span, so its head and tail are apart and a step reads
    # them with the batch (the window) rather than alone. A tail that stepped compares the
    # bytes it kept; a restarted one digests them against the marker's fingerprint.
    rec = record(ledger, src)
    t = new_tail(rec, src)
    lines = [numbered_user(n) for n in range(10, 70)]
    assert len(b"".join(lines)) > 2 * FINGERPRINT_SPAN
    append(src, b"".join(lines[:-1]))
    drain(t)
    append(src, lines[-1])
    assert t.step().entries == 1  # a step from a kept prefix
    at = 0 if where == "head" else len(b"".join(lines[:-1]))
    with open(src, "r+b") as f:  # same inode, same size, one line of other content
        f.seek(at)
        f.write(numbered_user(80))
    t = new_tail(rec, src) if restarted else t
    assert t.step().reset
    drain(t)
    assert contents(rec) == msgs(*range(10, 70), 80)
    append(src, numbered_user(81))
    assert not t.step().reset
    assert contents(rec)[-1] == "message 81"
    # What the window gave the fingerprint is the file's bytes (the stored digest is a format
    # other readers compute from the file).
    marker = read_marker(rec.session_dir)
    fd = os.open(src, os.O_RDONLY)
    try:
        assert marker.source_fingerprint == fingerprint(fd, marker.source_offset)  # type: ignore[attr-defined]
    finally:
        os.close(fd)


@pytest.mark.parametrize("rewritten", [False, True])
def test_a_marker_with_a_first_format_fingerprint_resumes_where_it_was(
    ledger: Path, src: Path, rewritten: bool
) -> None:
    # Markers written before the `v2:` digests hold a blake2b of the same bytes: a restarted
    # tail goes on from their offset (no re-read), and still sees a rewrite made meanwhile.
    rec = record(ledger, src)
    lines = [numbered_user(n) for n in range(10, 70)]
    append(src, b"".join(lines))
    drain(new_tail(rec, src))
    fd = os.open(src, os.O_RDONLY)
    try:
        prefix = PrefixPrint.read(fd, src.stat().st_size)
    finally:
        os.close(fd)
    old = prefix._blake2b()
    assert re.fullmatch(r"[0-9a-f]{32}", old)
    assert prefix.has_digest(old)
    assert not prefix.has_digest(old[:-1] + ("0" if old[-1] != "0" else "1"))
    update_marker(rec.session_dir, lambda m: setattr(m, "source_fingerprint", old))
    if rewritten:
        with open(src, "r+b") as f:  # same inode, same size, one line of other content
            f.seek(len(b"".join(lines[:-1])))
            f.write(numbered_user(80))
    append(src, numbered_user(81))
    t = new_tail(rec, src)
    assert t.step().reset is rewritten
    drain(t)
    expected = [*range(10, 70), *([80] if rewritten else []), 81]  # 69 was captured
    assert contents(rec) == msgs(*expected)
    assert read_marker(rec.session_dir).source_fingerprint.startswith("v2:")  # type: ignore[attr-defined]


def test_a_restarted_tail_detects_a_replacement_made_while_it_was_down(
    ledger: Path, src: Path
) -> None:
    rec = record(ledger, src)
    drain(new_tail(rec, src))
    append(src, numbered_user(0) + numbered_user(1))
    drain(new_tail(rec, src))
    tmp = src.with_suffix(".tmp")
    tmp.write_bytes(numbered_user(1) + numbered_user(5) + numbered_user(6))
    os.replace(tmp, src)
    drain(new_tail(rec, src))
    assert contents(rec) == msgs(0, 1, 5, 6)


def test_gemini_resume_rewrites_are_captured_once(ledger: Path, home: Path) -> None:
    data = (Path(__file__).parent / "data" / "sessions" / "gemini-ok-resume.jsonl").read_bytes()
    src = home / ".gemini" / "tmp" / "demo-project" / "chats" / "session-1.jsonl"
    src.parent.mkdir(parents=True)
    src.touch()
    rec = create_recording(ledger, "gemini-cli", src, pid=os.getpid())
    t = SourceTail(rec.session_dir, load_adapter("gemini"), src)
    t.resume()
    append(src, data)
    drain(t)
    entries = read_raw(rec.session_dir / RAW).entries
    assert [(e.type, e.content[:12]) for e in entries] == [
        ("system", "<session_con"),
        ("user", "say hi"),
        ("assistant", "Hi! I am the"),
        ("user", "say hi again"),
        ("assistant", "Hi! I am the"),
    ]


def test_an_over_long_line_is_skipped_and_what_follows_is_kept(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src)
    huge = claude_user("big", "x" * (tail_mod.MAX_LINE + 10))
    append(src, numbered_user(0) + huge[: len(huge) // 2])
    drain(t)
    assert contents(rec) == msgs(0)
    append(src, huge[len(huge) // 2 :] + numbered_user(1))
    results = [t.step() for _ in range(3)]
    assert sum(r.skipped_long for r in results) == 1
    drain(t)
    assert contents(rec) == msgs(0, 1)
    assert read_marker(rec.session_dir).source_offset == src.stat().st_size


def test_lines_longer_than_a_batch_but_within_the_limit_are_converted(
    ledger: Path, src: Path
) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src, batch_bytes=1024)
    big = "y" * 5000
    append(src, numbered_user(0) + claude_user("long-1", big) + numbered_user(1))
    drain(t)
    assert contents(rec) == [*msgs(0), big, *msgs(1)]


def test_a_long_line_being_written_costs_each_poll_its_new_bytes_not_a_batch(
    ledger: Path, src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # While a line longer than a batch is unterminated, each poll scans only what was added
    # (plus the fingerprints): it never reads a whole batch it cannot use (found in review).
    rec = record(ledger, src)
    append(src, numbered_user(0) * 40)  # the offset past the fingerprint's span
    batch = 256 * 1024
    t = new_tail(rec, src, batch_bytes=batch)
    drain(t)
    line = claude_user("long-1", "y" * (3 * batch))
    append(src, line[: 2 * batch])
    t.step()
    read: list[int] = []
    real = os.pread

    def pread(fd: int, count: int, at: int) -> bytes:
        data = real(fd, count, at)
        read.append(len(data))
        return data

    monkeypatch.setattr(os, "pread", pread)
    for n in range(5):
        append(src, line[2 * batch + n * 1000 : 2 * batch + (n + 1) * 1000])
        read.clear()
        assert t.step().consumed == 0
        assert 1000 <= sum(read) < 8 * FINGERPRINT_SPAN
    append(src, line[2 * batch + 5000 :] + numbered_user(1))
    drain(t)
    assert contents(rec)[-2:] == ["y" * (3 * batch), "message 1"]


def test_text_is_redacted_before_it_is_written(ledger: Path, src: Path) -> None:
    (ledger / ".ox").mkdir(parents=True)
    (ledger / ".ox" / "redact.toml").write_text('patterns = ["ACME-[0-9]{8}"]\n')
    rec = record(ledger, src)
    key = "AKIA" + "ABCDEFGHIJKLMNOP"
    append(src, claude_text("a-1", f"key {key} and ACME-12345678"))
    catch_up(rec.session_dir)
    raw = (rec.session_dir / RAW).read_text()
    assert key not in raw
    assert "ACME-12345678" not in raw
    assert contents(rec) == ["key [REDACTED_AWS_ACCESS_KEY] and [REDACTED_CUSTOM]"]


def test_catch_up_appends_what_the_watcher_missed(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    append(src, numbered_user(0) + numbered_user(1) + numbered_user(2)[:9])
    result = catch_up(rec.session_dir)
    assert (result.entries, result.offset) == (2, len(numbered_user(0) + numbered_user(1)))
    assert catch_up(rec.session_dir).entries == 0
    assert contents(rec) == msgs(0, 1)


def test_catch_up_gives_up_when_the_raw_lock_is_busy(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    append(src, numbered_user(0))
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with lock_file(rec.session_dir / RAW):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        held.wait(10)
        with pytest.raises(LockTimeout):
            catch_up(rec.session_dir, lock_timeout=0.05)
        assert contents(rec) == []
        assert read_marker(rec.session_dir).entry_count == 0
    finally:
        release.set()
        thread.join()


def test_a_live_tail_does_not_duplicate_after_catch_up_moved_the_marker(
    ledger: Path, src: Path
) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src)
    append(src, numbered_user(0))
    catch_up(rec.session_dir)  # finalization got there first
    append(src, numbered_user(1))
    drain(t)
    assert contents(rec) == msgs(0, 1)
    assert read_marker(rec.session_dir).entry_count == 2


def test_a_step_after_the_marker_vanished_stops(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src)
    (rec.session_dir / MARKER).unlink()
    append(src, numbered_user(0))
    with pytest.raises(RecordingGone):
        t.step()
    assert contents(rec) == []


def test_resume_starts_at_the_largest_of_requested_and_persisted_offsets(
    ledger: Path, src: Path
) -> None:
    append(src, numbered_user(0))
    rec = record(ledger, src)
    append(src, numbered_user(1) + numbered_user(2))
    t = SourceTail(rec.session_dir, load_adapter("claude-code"), src)
    t.resume(requested_offset=len(numbered_user(0) + numbered_user(1)))
    drain(t)
    assert contents(rec) == msgs(2)


def test_missing_source_is_not_an_error(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    t = new_tail(rec, src)
    src.unlink()
    assert not t.step().progressed


class ExplodingAdapter:
    name = "exploding"
    roots = (".claude/projects",)

    def parse_line(self, line: bytes) -> list[RawEntry]:
        if b"boom" in line:
            raise RuntimeError("third-party bug")
        return [RawEntry(type="user", content=line.decode())]


def test_an_adapter_that_raises_loses_only_that_line(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    t = SourceTail(rec.session_dir, ExplodingAdapter(), src)
    t.resume()
    append(src, b"one\nboom\ntwo\n")
    drain(t)
    assert contents(rec) == ["one", "two"]


class SloppyAdapter:
    """Returns something that is not an entry for lines saying so, by either method."""

    name = "sloppy"
    roots = (".claude/projects",)

    def parse_line(self, line: bytes) -> list[Any]:
        if b"junk" in line:
            return ["not an entry", {"type": "user", "content": "a dict, not a RawEntry"}]
        return [RawEntry(type="user", content=line.decode())]


class SloppyFieldsAdapter(SloppyAdapter):
    def parse_fields(self, line: bytes) -> list[Any]:
        if b"junk" in line:
            return [RawEntry(type="user", content="a model, not a dict"), None]
        return [{"type": "user", "content": line.decode(), "source_id": line.decode()}]


@pytest.mark.parametrize(
    "adapter", [SloppyAdapter(), SloppyFieldsAdapter()], ids=["line", "fields"]
)
def test_what_is_not_an_entry_is_dropped_and_the_rest_kept(
    ledger: Path, src: Path, adapter: SloppyAdapter
) -> None:
    rec = record(ledger, src)
    t = SourceTail(rec.session_dir, adapter, src)
    t.resume()
    append(src, b"one\njunk\ntwo\n")
    drain(t)
    assert contents(rec) == ["one", "two"]


class NonAdvancing(SourceTail):
    """A tail whose reader is broken: it returns lines without moving the cursor."""

    def _read(self, fd: int, size: int) -> Any:
        block = super()._read(fd, size)
        block.end = self.offset
        return block


def test_a_cursor_that_does_not_advance_stops_instead_of_duplicating(
    ledger: Path, src: Path
) -> None:
    rec = record(ledger, src)
    t = NonAdvancing(rec.session_dir, load_adapter("claude-code"), src)
    t.resume()
    append(src, numbered_user(0))
    with pytest.raises(TailError, match="did not advance"):
        t.step()
    assert contents(rec) == []


# ---------------------------------------------------------------- redaction shortcut and encoding


_fragments = st.sampled_from(
    [shape for _, shape, _ in SECRET_SHAPES]
    + ["plain words ", "task-list ", "ask me ", "https://example.org/x ", "\n", "PWD=/tmp ", "é"]
    # The batch pre-filter scans lower-cased UTF-8 and distinct words: characters whose lower
    # case is ASCII (Kelvin sign, dotted I), emoji, anchors cut by or holding white space,
    # escapes that hide an anchor, upper case.
    + ["\u212aEY=", "\u0130", "\U0001f600", "PRIVATE KEY", "private", " key", "\\u0070ass"]
    + ["TOKEN=", "-----BEGIN ", "\t", "password:", "pass", "word=hunter2secret "]
    # Anchors with a space: the piece between spaces looked for among the words first.
    + ["set -gx DB_PASSWORD ", "set ", "-gx", "snmp-server community ", "community", " x9Qz7Lm2Wp"]
    # What the batch looks for among its distinct words (it lies inside one): base64 and
    # `\x` escapes of text, JSON escapes, a no-break space, URL-encoding, a dump's offsets,
    # a Kubernetes Secret; and spaced anchors' pieces at a word's end or start.
    + ["cGFzc3dvcmQ9aHVudGVyMnNlY3JldA== ", "\\x70\\x61\\x73\\x73" * 3, "\\u003d", "\u00a0"]
    + ["%3D", "0000000 ", "apiVersion: v1\nkind: Secret\ndata:\n  token: ", ": |", "- -", ":"]
)


@pytest.mark.parametrize(
    ("small_batch_words", "gated_bytes"),
    [(4096, 64 * 1024), (4096, 0), (-1, 64 * 1024)],
    ids=["word-memo", "word-memo-gated", "batch-scan"],
)
@settings(max_examples=150, deadline=None)
@given(batch=st.lists(st.lists(_fragments, max_size=5).map("".join), max_size=6))
def test_batch_redaction_equals_redact_text(
    batch: list[str], small_batch_words: int, gated_bytes: int
) -> None:
    """Every way of finding a batch's anchors (remembered per word for a small batch, one
    scan per anchor for a large one, a spaced anchor's piece looked for among the words
    first) gives `redact_text`'s result exactly."""
    from ox_session_capture.redact import anchors, redact_text

    extra = [re.compile("ACME-[0-9]{8}")]
    redactor = LedgerRedactor(extra)
    expected = [redact_text(text, extra) for text in batch]
    saved = anchors.SMALL_BATCH_WORDS, anchors.Scan.GATED_BYTES
    anchors.SMALL_BATCH_WORDS, anchors.Scan.GATED_BYTES = small_batch_words, gated_bytes
    try:
        assert redactor.many(batch) == expected
        assert redactor.many(batch) == expected  # again, every word remembered
    finally:
        anchors.SMALL_BATCH_WORDS, anchors.Scan.GATED_BYTES = saved
    assert [redactor(text) for text in batch] == expected


def test_only_short_words_are_remembered_and_the_memory_stays_bounded() -> None:
    """A session's words are hostile: a base64 blob is one word of megabytes. The anchor
    memory keeps short words only, and starts over past its size."""
    from ox_session_capture.redact import anchors

    scan = anchors.Scan(["secret", "pass"])
    blob = b"x" * (anchors.Scan.MEMO_WORD_BYTES + 1) + b"secret"
    assert scan.in_words({blob, b"password"}, b"") == ["pass", "secret"]
    assert blob not in scan._words
    assert scan._words[b"password"][0] == ("pass",)
    for n in range(anchors.Scan.WORD_CACHE + 10):
        scan.in_words({b"w%d" % n}, b"")
    assert len(scan._words) <= anchors.Scan.WORD_CACHE


@settings(max_examples=300, deadline=None)
@given(
    word=st.lists(
        st.sampled_from(["pass", "pa", "ss", "key", "ke", "y", "-p", "**", "||", "a", "\xe9", "x"])
        | st.text(max_size=3),
        max_size=30,
    ).map(lambda parts: "".join(parts).lower().encode("utf-8", "surrogatepass"))
)
def test_a_word_read_pair_by_pair_holds_the_anchors_a_search_finds(word: bytes) -> None:
    """A short word's anchors are found by its byte pairs (one lookup each), a long one's by a
    search for each anchor: both give every anchor the word holds, and only those."""
    from ox_session_capture.redact import engine
    from ox_session_capture.redact.anchors import Scan

    scan = Scan([*engine._PLAIN_ANCHORS, "x", "é"])
    expected = {a for a, n in scan._in_word if n in word}
    assert set(scan._anchors_of(word)) == expected
    assert set(scan._anchors_of(word * 5)) == {a for a, n in scan._in_word if n in word * 5}


def test_a_batch_of_many_unseen_words_is_scanned_and_still_redacted() -> None:
    from ox_session_capture.redact import anchors, engine

    words = [f"w{n}x{n * 7919}" for n in range(anchors.Scan.NEW_WORDS * 3)]
    batch = [" ".join(words), "token=" + "Zq8" * 12, "nothing here"]
    assert engine._SCAN_PLAIN.in_words(set(" ".join(words).encode().split()), b"") is None
    out = LedgerRedactor().many(batch)
    assert out[0] == batch[0]
    assert out[2] == batch[2]
    assert "Zq8Zq8" not in out[1]
    assert "[REDACTED_" in out[1]


def test_a_lone_surrogate_in_the_source_is_replaced_not_fatal(ledger: Path, src: Path) -> None:
    rec = record(ledger, src)
    append(src, b'{"type":"user","uuid":"s-1","message":{"content":"bad \\ud800 text"}}\n')
    append(src, numbered_user(1))
    assert catch_up(rec.session_dir).entries == 2
    assert contents(rec) == ["bad ? text", "message 1"]


@pytest.mark.parametrize("batch", [16 * 1024 * 1024, None], ids=["one-batch", "default"])
def test_catch_up_skips_an_over_long_line(
    ledger: Path, src: Path, batch: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ox_session_capture import recover

    rec = record(ledger, src)
    huge = claude_user("big", "x" * (tail_mod.MAX_LINE + 10))
    if batch is None:  # the catch-up's own blocks: the line spans several
        assert len(huge) > recover.CATCH_UP_BATCH_BYTES
    else:  # the whole line inside one batch
        monkeypatch.setattr(recover, "CATCH_UP_BATCH_BYTES", batch)
        assert len(huge) < batch
    append(src, numbered_user(0) + huge + numbered_user(1))
    assert catch_up(rec.session_dir).entries == 2
    assert contents(rec) == msgs(0, 1)


def test_a_long_partial_line_truncated_away_does_not_hide_what_follows(
    ledger: Path, src: Path
) -> None:
    # Found by the state machine: the scan state of an unterminated line longer than one
    # batch outlived a truncation at offset 0.
    rec = record(ledger, src)
    t = new_tail(rec, src, batch_bytes=512)
    append(src, claude_user("long-1", "z" * 2000)[:1500])
    assert not t.step().progressed
    src.write_bytes(b"")
    append(src, numbered_user(0))
    drain(t)
    assert contents(rec) == msgs(0)


def test_catch_up_commits_many_blocks_at_once_within_its_budget(
    ledger: Path, src: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catch-up reads block by block but appends (and fsyncs) once per commit budget: 40
    lines in 1 KiB blocks are one durable commit; with a small budget they are several, and
    the result is the same either way."""
    from ox_session_capture import journal, recover

    rec = record(ledger, src)
    for n in range(40):
        append(src, numbered_user(n))
    commits: list[int] = []
    real_append, real_slot = journal.durable_append, journal.append_committed

    def counting(session_dir: Path, data: bytes, *args: Any) -> Any:
        commits.append(len(data))
        return real_append(session_dir, data, *args)

    def counting_slot(markers: Any, marker: Any, data: bytes, *args: Any) -> bool:
        done = real_slot(markers, marker, data, *args)
        if done:  # else the step goes on to durable_append, counted there
            commits.append(len(data))
        return done

    monkeypatch.setattr(tail_mod, "durable_append", counting)
    monkeypatch.setattr(tail_mod, "append_committed", counting_slot)
    monkeypatch.setattr(recover, "CATCH_UP_BATCH_BYTES", 1024)
    assert catch_up(rec.session_dir).entries == 40
    assert len(commits) == 1
    assert contents(rec) == msgs(*range(40))
    assert read_marker(rec.session_dir).source_offset == src.stat().st_size

    # The same file again into a new recording, with a budget of ~4 entries per commit.
    commits.clear()
    (ledger.parent / "second-ledger").mkdir()
    rec2 = record(ledger.parent / "second-ledger", src)  # starts at the end of the file

    def from_start(marker: Any) -> None:
        marker.source_offset = marker.start_offset = 0

    update_marker(rec2.session_dir, from_start)
    monkeypatch.setattr(recover, "CATCH_UP_COMMIT_BYTES", 400)
    assert catch_up(rec2.session_dir).entries == 40
    assert len(commits) > 5
    assert all(size < 400 + 2048 for size in commits)  # budget + at most one block's output
    assert contents(rec2) == msgs(*range(40))


@pytest.mark.parametrize(
    "forged",
    [
        "v2:0:00000000000000000000000000000000",  # the v2 shape, other bytes
        "0" * 32,  # the first format's shape, other bytes
        "v2:" + "f" * 10_000,
        "",
        12345,
        None,
        ["v2:"],
    ],
)
def test_a_forged_marker_fingerprint_re_reads_the_source_without_duplicates(
    ledger: Path, src: Path, forged: object
) -> None:
    # The marker's fingerprint is read back from a file: whatever text it holds, a restarted
    # tail never trusts an offset it cannot check (it re-reads, dropping what was captured);
    # anything but text counts as no fingerprint (a marker of a version without one: the
    # offset is trusted). It never fails on it.
    rec = record(ledger, src)
    append(src, b"".join(numbered_user(n) for n in range(60)))
    drain(new_tail(rec, src))
    update_marker(rec.session_dir, lambda m: setattr(m, "source_fingerprint", forged))
    append(src, numbered_user(60))
    t = new_tail(rec, src)
    assert t.step().reset is isinstance(forged, str)
    drain(t)
    assert contents(rec) == msgs(*range(61))
    assert read_marker(rec.session_dir).source_fingerprint.startswith("v2:")  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", ["symlink", "fifo"])
def test_a_raw_lock_file_swapped_for_a_link_or_fifo_is_refused_and_loses_nothing(
    ledger: Path, src: Path, tmp_path: Path, kind: str
) -> None:
    # The step takes the raw file's lock with a plain open: a link put at the lock's path is
    # never followed (its target keeps its bytes), a FIFO never blocks the step, nothing is
    # committed meanwhile, and the line is captured once the lock file is a file again.
    rec = record(ledger, src)
    t = new_tail(rec, src)
    append(src, numbered_user(1))
    drain(t)
    lock = lock_path(rec.session_dir / RAW)
    lock.unlink(missing_ok=True)
    target = tmp_path / "outside"
    target.write_bytes(b"not ox's")
    if kind == "symlink":
        lock.symlink_to(target)
    else:
        os.mkfifo(lock)
    append(src, numbered_user(2))
    with pytest.raises(UnsafePathError):
        t.step()
    assert target.read_bytes() == b"not ox's"
    assert contents(rec) == msgs(1)
    lock.unlink()
    drain(t)
    assert contents(rec) == msgs(1, 2)
