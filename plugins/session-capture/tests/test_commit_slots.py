"""The live step's commit (`commit_slots`, `journal.append_committed`): the slot format, the
merge rules, every crash point of a step, every state a power cut can leave, and the slot
file as hostile input (docs/capture-journal.md)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ox_session_capture import commit_slots
from ox_session_capture.commit_slots import (
    IMAGE_SIZE,
    SESSION_INFO_KEYS,
    SLOT_SIZE,
    SLOTS,
    Slot,
    commit_point,
    decode,
    encode,
    newest,
    read_image,
    set_fields,
)
from ox_session_capture.journal import (
    MarkerFile,
    Settled,
    append_committed,
    committed_size,
    durable_append,
    set_committed,
    settle_journal,
)
from ox_session_capture.records import (
    JOURNAL,
    MARKER,
    RAW,
    RecordingMarker,
    atomic_write_model,
    read_marker,
    update_marker,
)

HEADER = b'{"_meta":{"schema_version":"1"}}\n'
FP = "0" * 32

slots = st.builds(
    Slot,
    seq=st.integers(0, 2**63),
    epoch=st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=64),
    source_offset=st.integers(0, 2**63),
    entry_count=st.integers(0, 2**63),
    raw_size=st.integers(0, 2**63),
    fingerprint=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=64),
    info=st.dictionaries(
        st.sampled_from(SESSION_INFO_KEYS),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=64),
    ).map(lambda d: tuple(sorted(d.items()))),
)


def make_session(folder: Path, offset: int = 0, **extra: object) -> Path:
    folder.mkdir()
    (folder / RAW).write_bytes(HEADER)
    marker = RecordingMarker(source_offset=offset, entry_count=0, **extra)  # type: ignore[arg-type]
    set_committed(marker, len(HEADER))
    atomic_write_model(folder / MARKER, marker)
    return folder


def line(n: int) -> bytes:
    return b'{"n":%d}\n' % n


def fast_step(markers: MarkerFile, n: int) -> bool:
    """Commit `line(n)`, read from source offset 10 n .. 10 (n + 1), through a slot."""
    marker = markers.current()
    return append_committed(markers, marker, line(n), 10 * (n + 1), 1, FP)


# ---------------------------------------------------------------- format


@given(slots)
def test_a_slot_reads_back_as_written(slot: Slot) -> None:
    data = encode(slot)
    assert len(data) == SLOT_SIZE
    assert decode(data) == slot


@given(slots, st.data())
def test_any_damaged_byte_is_refused_or_harmless(slot: Slot, data: st.DataObject) -> None:
    raw = bytearray(encode(slot))
    at = data.draw(st.integers(0, SLOT_SIZE - 1))
    raw[at] ^= data.draw(st.integers(1, 255))
    assert decode(bytes(raw)) in (None, slot)  # padding after the newline does not count


@given(slots, st.integers(0, SLOT_SIZE - 1))
def test_a_torn_slot_is_refused(slot: Slot, keep: int) -> None:
    data = encode(slot)
    end = data.index(b"\n")
    if keep <= end:
        assert decode(data[:keep] + b"\0" * (SLOT_SIZE - keep)) is None


@given(st.binary(max_size=SLOT_SIZE))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    decode(data.ljust(SLOT_SIZE, b"\0"))


@pytest.mark.parametrize(
    "body",
    [b"[1,2]", b'{"a":1}', b'[true,"e",1,1,1,"f"]', b'[1,"e",-1,1,1,"f"]', b'[1,2,3,4,5,6]',
     b'[1,"' + b"e" * 65 + b'",1,1,1,"f"]', b"[1,",
     # session info only of its own keys, short ASCII text values, as an object
     b'[1,"e",1,1,1,"f",{"stopped_at":"2026-01-01T00:00:00Z"}]',
     b'[1,"e",1,1,1,"f",{"model":1}]', b'[1,"e",1,1,1,"f",{"model":"\xc3\xa9"}]',
     b'[1,"e",1,1,1,"f",{"model":"' + b"m" * 65 + b'"}]', b'[1,"e",1,1,1,"f",["model","m"]]',
     b'[1,"e",1,1,1,"f",{},1]'],
)  # fmt: skip
def test_a_slot_with_a_valid_crc_but_bad_fields_is_refused(body: bytes) -> None:
    import zlib

    assert decode((b"%08x %s\n" % (zlib.crc32(body), body)).ljust(SLOT_SIZE, b"\0")) is None


@given(slots, slots)
def test_the_newest_valid_slot_counts(a: Slot, b: Slot) -> None:
    image = encode(a) + encode(b)
    assert newest(image) == max((a, b), key=lambda s: s.seq)
    assert newest(encode(a) + b"\xff" * SLOT_SIZE) == a
    assert newest(b"\0" * IMAGE_SIZE) is None


def test_set_fields_is_setattr_without_its_cost() -> None:
    """The step's field writer leaves a marker as `setattr` would: declared fields set (and
    counted as set), anything else an extra key, `model` (a session info key) included."""
    values = {"source_offset": 7, "entry_count": 3, "model": "m", "commit": {"seq": 1}}
    fast, slow = RecordingMarker(), RecordingMarker()
    set_fields(fast, **values)
    for key, value in values.items():
        setattr(slow, key, value)
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.model_extra == slow.model_extra == {"model": "m", "commit": {"seq": 1}}


def test_a_slot_without_session_info_is_the_six_fields_older_readers_know() -> None:
    slot = Slot(3, "e", 10, 1, 40, FP)
    assert encode(slot).split(b" ", 1)[1].startswith(b'[3,"e",10,1,40,"%s"]' % FP.encode())
    assert decode(encode(slot)) == slot


# ---------------------------------------------------------------- merge rules


def test_a_slot_applies_only_over_its_own_epoch_and_newer_seq(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    epoch, seq = commit_point(read_marker(session)) or ("", -1)
    assert seq == 0
    image = b""
    for slot, applies in [
        (Slot(1, "other-recording", 500, 9, 900, FP), False),
        (Slot(0, epoch, 500, 9, 900, FP), False),  # not newer than the marker
        (Slot(3, epoch, 40, 4, len(HEADER) + 40, FP), True),
    ]:
        fd = commit_slots.open_slots(session / SLOTS)
        try:
            image = commit_slots.write_slot(fd, slot, image)
        finally:
            os.close(fd)
        marker = read_marker(session)
        if applies:
            assert (marker.source_offset, marker.entry_count) == (40, 4)
            assert committed_size(marker) == len(HEADER) + 40
        else:
            assert (marker.source_offset, marker.entry_count) == (0, 0)


def test_session_info_rides_in_the_slot_and_is_never_lost_by_a_later_one(
    tmp_path: Path,
) -> None:
    """Learning the agent version or the model costs no whole-marker write: the slot carries
    it. Each slot carries all the info the marker has (only the newest slot applies), so a
    step after a restart, whose adapter has learnt nothing yet, keeps it."""
    session = make_session(tmp_path / "s")
    inode = (session / MARKER).stat().st_ino
    markers = MarkerFile(session)
    marker = markers.current()
    learnt = {"agent_version": "2.1.330"}
    assert append_committed(markers, marker, line(0), 10, 1, FP, learnt)
    assert (session / MARKER).stat().st_ino == inode  # the marker file was not rewritten
    assert "agent_version" not in json.loads((session / MARKER).read_bytes())
    assert (read_marker(session).model_extra or {})["agent_version"] == "2.1.330"

    restarted = MarkerFile(session)  # a new daemon: its adapter knows nothing yet
    assert append_committed(restarted, restarted.current(), line(1), 20, 1, FP, {})
    assert append_committed(restarted, restarted.current(), line(2), 30, 1, FP, {"model": "m"})
    extra = read_marker(session).model_extra or {}
    assert (extra["agent_version"], extra["model"]) == ("2.1.330", "m")
    assert read_marker(session).entry_count == 3

    # Whoever rewrites the whole marker keeps it too.
    update_marker(session, lambda m: None)
    extra = json.loads((session / MARKER).read_bytes())
    assert (extra["agent_version"], extra["model"]) == ("2.1.330", "m")


def test_session_info_that_does_not_fit_a_slot_takes_the_journal(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    markers = MarkerFile(session)
    long_model = {"model": "m" * 65}
    assert not append_committed(markers, markers.current(), line(0), 10, 1, FP, long_model)
    assert (session / RAW).read_bytes() == HEADER  # nothing was written


def test_a_slot_file_left_by_an_earlier_recording_is_ignored(tmp_path: Path) -> None:
    first = make_session(tmp_path / "s")
    markers = MarkerFile(first)
    assert fast_step(markers, 0)
    image = (first / SLOTS).read_bytes()
    (first / MARKER).unlink()  # the recording ended; its slot file stayed
    (first / RAW).write_bytes(HEADER)
    marker = RecordingMarker(source_offset=0)
    set_committed(marker, len(HEADER))  # a new recording: a new epoch
    atomic_write_model(first / MARKER, marker)
    assert (first / SLOTS).read_bytes() == image
    assert read_marker(first).source_offset == 0


def test_a_marker_without_a_commit_point_never_takes_a_slot(tmp_path: Path) -> None:
    session = tmp_path / "s"
    session.mkdir()
    (session / RAW).write_bytes(HEADER)
    atomic_write_model(session / MARKER, RecordingMarker(source_offset=0))  # older version
    markers = MarkerFile(session)
    assert not fast_step(markers, 0)
    assert not (session / SLOTS).exists()
    assert (session / RAW).read_bytes() == HEADER


def test_a_stopped_recording_commits_through_the_journal(tmp_path: Path) -> None:
    """Bytes past a stopped marker's commit are its footer when no journal says otherwise,
    so a stopped recording's drain never commits by slot."""
    session = make_session(tmp_path / "s", stopped_at="2026-12-01T00:00:00Z")
    assert not fast_step(MarkerFile(session), 0)
    assert (session / RAW).read_bytes() == HEADER


def test_whole_marker_writes_keep_the_slots_progress(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    markers = MarkerFile(session)
    for n in range(3):
        assert fast_step(markers, n)

    def heartbeat(marker: RecordingMarker) -> None:
        marker.parent_pid = 42

    update_marker(session, heartbeat)  # another process
    for n in range(3, 5):
        assert fast_step(markers, n)
    marker = read_marker(session)
    assert (marker.source_offset, marker.entry_count, marker.parent_pid) == (50, 5, 42)
    assert (session / RAW).read_bytes() == HEADER + b"".join(line(n) for n in range(5))
    assert settle_journal(session) is Settled.NONE


def test_a_failed_slot_write_leaves_the_batch_to_be_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = make_session(tmp_path / "s")
    markers = MarkerFile(session)
    assert fast_step(markers, 0)

    def full_disk(*args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(commit_slots.os, "pwrite", full_disk)
    with pytest.raises(OSError, match="No space"):
        fast_step(markers, 1)
    monkeypatch.undo()
    assert read_marker(session).source_offset == 10  # not committed
    assert fast_step(markers, 1)  # the same lines again, once; the stray bytes dropped
    assert (session / RAW).read_bytes() == HEADER + line(0) + line(1)


def test_bytes_left_past_the_commit_are_dropped_by_the_next_step(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    markers = MarkerFile(session)
    with open(session / RAW, "ab") as f:
        f.write(b'{"half')  # a step that died before its slot
    assert fast_step(markers, 0)
    assert (session / RAW).read_bytes() == HEADER + line(0)


# ---------------------------------------------------------------- crashes


class Crash(BaseException):
    """Stands for `kill -9`: nothing after the crash point runs."""


def crash_at(markers: MarkerFile, point: int, mp: pytest.MonkeyPatch) -> bool:
    """Run one step, crashing at the `point`-th data write, fsync or slot write (a data write
    crashes half-way, a slot write torn within its line); whether it crashed."""
    count = 0
    real_write, real_fsync, real_pwrite = os.write, os.fsync, os.pwrite

    def tick() -> None:
        nonlocal count
        count += 1
        if count == point:
            raise Crash

    def write(fd: int, data: bytes) -> int:
        if count + 1 == point:
            real_write(fd, bytes(data[: len(data) // 2]))
        tick()
        return real_write(fd, data)

    def pwrite(fd: int, data: bytes, at: int) -> int:
        if count + 1 == point:
            real_pwrite(fd, bytes(data[: bytes(data).index(b"\n") // 2]), at)
        tick()
        return real_pwrite(fd, data, at)

    mp.setattr(os, "write", write)
    mp.setattr(os, "fsync", lambda fd: (tick(), real_fsync(fd)))
    mp.setattr(os, "pwrite", pwrite)
    try:
        fast_step(markers, 1)
    except Crash:
        return True
    return False


def test_every_crash_point_of_a_step_settles_to_exactly_one_copy(tmp_path: Path) -> None:
    outcomes = set()
    point = 0
    while True:
        point += 1
        session = make_session(tmp_path / f"p{point}")
        markers = MarkerFile(session)
        assert fast_step(markers, 0)
        with pytest.MonkeyPatch.context() as mp:
            crashed = crash_at(markers, point, mp)
        if not crashed:
            break
        outcomes.add(settle_journal(session))
        marker, raw = read_marker(session), (session / RAW).read_bytes()
        if marker.source_offset == 10:
            assert raw == HEADER + line(0)
            assert marker.entry_count == 1
            assert fast_step(MarkerFile(session), 1)  # a restarted watcher reads it again
        else:
            assert marker.source_offset == 20
            assert marker.entry_count == 2
        assert (session / RAW).read_bytes() == HEADER + line(0) + line(1)
        assert not (session / JOURNAL).exists()
    # The data write, its fsync and the slot write each crashed; the slot is the last thing
    # a step writes, so every crash is rolled back (the run that did not crash committed).
    assert point > 3
    assert outcomes == {Settled.ROLLED_BACK}


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_state_a_power_cut_can_leave_is_one_committed_step(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """After a power cut only fsynced bytes are sure to be on disk; the rest may be lost, kept
    or torn, in any order. Steps 1..j finished (raw.jsonl fsynced through step j); step j + 1
    may have written part of its batch. Each slot on disk is what any step up to j wrote there,
    or torn. Settling must leave `raw.jsonl` exactly as after one committed step k <= j, with
    the marker at that step's offset."""
    session = make_session(tmp_path_factory.mktemp("cut") / "s")
    markers = MarkerFile(session)
    steps = data.draw(st.integers(1, 8))
    raws, images, written = [HEADER], [b""], {0: [b"\0" * SLOT_SIZE], 1: [b"\0" * SLOT_SIZE]}
    for n in range(steps):
        assert fast_step(markers, n)
        raws.append((session / RAW).read_bytes())
        image = read_image(session / SLOTS)
        images.append(image)
        seq = n + 1
        written[seq % 2].append(image[(seq % 2) * SLOT_SIZE : (seq % 2 + 1) * SLOT_SIZE])
    j = data.draw(st.integers(0, steps - 1))
    pending = line(j)  # the batch of step j + 1 (lines are numbered from 0)
    kept = data.draw(st.integers(0, len(pending)))
    (session / RAW).write_bytes(raws[j] + pending[:kept])

    def slot_on_disk(place: int) -> bytes:
        # What any step up to j wrote in this place (seq = step number), or torn garbage.
        versions = [written[place][0]] + [
            image[place * SLOT_SIZE : (place + 1) * SLOT_SIZE]
            for seq, image in enumerate(images)
            if 0 < seq <= j and seq % 2 == place
        ]
        choice = data.draw(st.sampled_from([*versions, b"torn"]))
        return os.urandom(SLOT_SIZE) if choice == b"torn" else choice

    (session / SLOTS).write_bytes(slot_on_disk(0) + slot_on_disk(1))
    settle_journal(session)
    marker, raw = read_marker(session), (session / RAW).read_bytes()
    k = marker.source_offset // 10
    assert k <= j
    assert marker.source_offset == 10 * k
    assert marker.entry_count == k
    assert raw == raws[k]
    for n in range(k, steps):  # a restarted watcher reads the rest again: exactly once
        assert fast_step(MarkerFile(session), n)
    assert (session / RAW).read_bytes() == raws[steps]


# ---------------------------------------------------------------- all writers together


class Writers(RuleBasedStateMachine):
    """Live steps (slots), journaled batches (whole marker) and another process's
    read-modify-writes of the marker, in any order: the marker read back is always where the
    last commit left it and `raw.jsonl` holds each line once."""

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.session = make_session(Path(self.tmp.name) / "s")
        self.markers = MarkerFile(self.session)
        self.n = 0
        self.beats = 0

    @rule()
    def live_step(self) -> None:
        assert fast_step(self.markers, self.n)
        self.n += 1

    @rule()
    def journaled_batch(self) -> None:
        def advance(marker: RecordingMarker) -> None:
            marker.source_offset = 10 * (self.n + 1)
            marker.entry_count += 1

        durable_append(self.session, line(self.n), 10 * self.n, 10 * (self.n + 1), advance,
                       self.markers)  # fmt: skip
        self.n += 1

    @rule()
    def heartbeat(self) -> None:
        def beat(marker: RecordingMarker) -> None:
            marker.parent_pid += 1

        update_marker(self.session, beat)
        self.beats += 1

    @rule()
    def restart(self) -> None:
        self.markers = MarkerFile(self.session)

    @invariant()
    def where_the_last_commit_left_it(self) -> None:
        marker = read_marker(self.session)
        assert (marker.source_offset, marker.entry_count) == (10 * self.n, self.n)
        assert marker.parent_pid == self.beats
        assert committed_size(marker) == (self.session / RAW).stat().st_size
        expected = HEADER + b"".join(line(n) for n in range(self.n))
        assert (self.session / RAW).read_bytes() == expected

    def teardown(self) -> None:
        self.tmp.cleanup()


Writers.TestCase.settings = settings(max_examples=40, stateful_step_count=20, deadline=None)
test_all_writers_together = Writers.TestCase


# ---------------------------------------------------------------- hostile slot files


def test_a_link_at_the_slot_file_is_never_read_or_written_through(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (session / SLOTS).symlink_to(victim)
    assert read_marker(session).source_offset == 0
    markers = MarkerFile(session)
    assert fast_step(markers, 0)
    assert victim.read_bytes() == b"precious"
    assert not (session / SLOTS).is_symlink()
    assert read_marker(session).source_offset == 10


def test_a_fifo_at_the_slot_file_never_blocks(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    os.mkfifo(session / SLOTS)
    assert read_marker(session).source_offset == 0
    assert fast_step(MarkerFile(session), 0)
    assert read_marker(session).source_offset == 10


def test_a_hard_link_at_the_slot_file_is_not_written_through(tmp_path: Path) -> None:
    session = make_session(tmp_path / "s")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"\0" * IMAGE_SIZE)
    os.link(elsewhere, session / SLOTS)
    assert fast_step(MarkerFile(session), 0)
    assert elsewhere.read_bytes() == b"\0" * IMAGE_SIZE
    assert read_marker(session).source_offset == 10


def test_a_folder_at_the_slot_file_makes_steps_journal_and_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    session = make_session(tmp_path / "s")
    (session / SLOTS).mkdir()
    markers = MarkerFile(session)
    with caplog.at_level(logging.WARNING):
        assert not fast_step(markers, 0)  # nothing written: the caller journals the batch
    assert "commit slots unusable" in caplog.text
    caplog.clear()
    assert (session / RAW).read_bytes() == HEADER

    def advance(marker: RecordingMarker) -> None:
        marker.source_offset = 10
        marker.entry_count += 1

    durable_append(session, line(0), 0, 10, advance, markers)
    assert read_marker(session).source_offset == 10
    assert (session / RAW).read_bytes() == HEADER + line(0)
    with caplog.at_level(logging.WARNING):
        assert not fast_step(markers, 1)
    assert "unusable" not in caplog.text  # warned once per recording, not at every line


@pytest.mark.parametrize(
    "point",
    [
        {"epoch": "", "seq": 0},
        {"epoch": "e" * 65, "seq": 0},
        {"epoch": ["e"], "seq": 0},
        {"epoch": "e", "seq": -1},
        {"epoch": "e", "seq": True},
        {"epoch": "e", "seq": "0"},
        {"epoch": "e"},
    ],
)
def test_a_hostile_commit_point_in_the_marker_takes_no_slot(
    tmp_path: Path, point: dict[str, object]
) -> None:
    """A marker's `commit` key is data from a file: a bad epoch or sequence never lets a slot
    apply, and a live step journals instead of writing one."""
    session = tmp_path / "s"
    session.mkdir()
    (session / RAW).write_bytes(HEADER)
    commit = {"source_offset": 0, "raw_size": len(HEADER), **point}
    atomic_write_model(session / MARKER, RecordingMarker(source_offset=0, commit=commit))
    fd = commit_slots.open_slots(session / SLOTS)
    try:
        commit_slots.write_slot(fd, Slot(5, "e", 500, 9, 900, FP), b"")
    finally:
        os.close(fd)
    assert commit_point(read_marker(session)) is None
    assert read_marker(session).source_offset == 0
    assert not fast_step(MarkerFile(session), 0)
    assert (session / RAW).read_bytes() == HEADER
