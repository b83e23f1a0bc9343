"""A marker's agent pid is used only in the pid namespace it was counted in: `name_agent`
writes the namespace beside the pid, `agent_pid` gives 0 for a pid of another one (it names
another process here, or none). Markers of older versions, without it, are taken at their
word; a namespace that is not text is no namespace; one the writer could not tell ("") is
not this one."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ox_handler_session_finalize.staleness import is_stale
from ox_session_capture.liveness import NO_PID_STALE, PIDNS, agent_pid, name_agent
from ox_session_capture.records import RecordingMarker

HERE = os.readlink("/proc/self/ns/pid")


@given(st.integers(1, 2**22))
def test_a_pid_named_here_is_read_back_here(pid: int) -> None:
    marker = RecordingMarker()
    name_agent(marker, pid)
    assert (marker.parent_pid, agent_pid(marker)) == (pid, pid)
    assert marker.model_dump()[PIDNS] == HERE
    assert agent_pid(RecordingMarker.model_validate_json(marker.model_dump_json())) == pid


@pytest.mark.parametrize(
    ("pidns", "expected"),
    [
        (None, 4242),  # written by an older version: its word
        (HERE, 4242),
        ("pid:[1]", 0),  # another namespace's pid 4242 is not this one's
        ("", 0),  # its writer could not tell (no /proc): not this one, which can
        (17, 4242),  # not text: no namespace said
    ],
)
def test_a_pid_of_another_namespace_is_no_pid_here(pidns: object, expected: int) -> None:
    extra = {} if pidns is None else {PIDNS: pidns}
    marker = RecordingMarker.model_validate({"parent_pid": 4242, **extra})
    assert agent_pid(marker) == expected


def test_a_recording_whose_agent_is_of_another_namespace_goes_stale_as_one_without_pid() -> None:
    """Finalization never takes it for finished because a process of that number is gone here,
    nor keeps it forever because one runs here: it is live for NO_PID_STALE, as without a pid."""
    now = datetime.now(UTC)
    for age, stale in ((NO_PID_STALE - timedelta(minutes=1), False), (NO_PID_STALE, True)):
        marker = RecordingMarker.model_validate(
            {"parent_pid": os.getpid(), PIDNS: "pid:[1]", "started_at": now - age}
        )
        assert is_stale(marker, now, now, alive=lambda pid: True) is stale
        assert is_stale(marker, now, now, alive=lambda pid: False) is stale


def test_a_pid_named_where_proc_says_no_namespace_is_no_pid_where_it_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ox_session_capture import liveness

    marker = RecordingMarker.model_validate({"parent_pid": 7, PIDNS: "pid:[1]"})
    with monkeypatch.context() as nowhere:
        nowhere.setattr(liveness, "pid_namespace", lambda: "")
        name_agent(marker, 9)
        assert agent_pid(marker) == 9  # read where /proc cannot tell either
    assert marker.model_dump()[PIDNS] == ""
    assert (marker.parent_pid, agent_pid(marker)) == (9, 0)


def test_where_proc_names_no_namespace_at_all_a_callers_pid_is_taken_at_its_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A daemon whose `/proc` says nothing of pid namespaces (its own neither) tells none
    apart: a hook's or a command's pid is used as given, as before namespaces were told
    apart, not dropped."""
    from ox_core import ipc, proc
    from ox_session_capture import service

    monkeypatch.setattr(proc, "pid_namespace", lambda pid="self": "")
    token = ipc._PEER_PID.set(os.getpid())  # as if this process had sent the request
    try:
        parent = os.getppid()
        assert service.caller_pid(parent) == parent
        assert service.hook_agent(parent)[0] > 0
    finally:
        ipc._PEER_PID.reset(token)
