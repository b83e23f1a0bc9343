"""A marker's `started_at` is written by whoever wrote the marker (any process of the user,
a teammate's synced cache): any date, any offset, naive or aware. Staleness is a total
function of it (never raises, so one odd marker cannot abort a scan or a cleanup pass) and
monotone in age: a recording stale at some moment stays stale later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from ox_handler_session_finalize.detect import is_stale
from ox_session_capture.records import RecordingMarker

offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
moments = st.datetimes(timezones=st.none() | st.just(UTC) | offsets)
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def marker(started: datetime | None, pid: int) -> RecordingMarker:
    return RecordingMarker.model_validate(
        {"agent_id": "a1", "started_at": started, "parent_pid": pid}
    )


ages = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400))


@given(started=st.none() | moments, mtime=moments, pid=st.sampled_from([0, 7]),
       alive=st.booleans(), later=ages)  # fmt: skip
def test_staleness_is_total_and_monotone_in_age(
    started: datetime | None, mtime: datetime, pid: int, alive: bool, later: timedelta
) -> None:
    m = marker(started, pid)
    mtime = mtime if mtime.tzinfo else mtime.replace(tzinfo=UTC)
    stale_now = is_stale(m, mtime, NOW, alive=lambda _pid: alive)
    stale_later = is_stale(m, mtime, NOW + later, alive=lambda _pid: alive)
    assert isinstance(stale_now, bool)
    assert not stale_now or stale_later
    if pid and alive:
        # a live agent's recording is never ended
        assert not stale_now
        assert not stale_later
