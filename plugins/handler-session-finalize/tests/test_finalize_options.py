"""`[handlers.session-finalize]`: the quality thresholds are this handler's own options."""

from __future__ import annotations

import pytest

from ox_core.config import validate_options
from ox_core.errors import ConfigError
from ox_handler_session_finalize.disposition import FinalizeOptions, Thresholds
from ox_handler_session_finalize.handler import SessionFinalizeHandler

WHERE = "handlers.session-finalize"


def test_the_handler_declares_its_options() -> None:
    assert SessionFinalizeHandler.Options is FinalizeOptions
    handler = SessionFinalizeHandler()
    handler.configure(validate_options(FinalizeOptions, {}, WHERE))
    assert handler.thresholds == Thresholds(upload=0.3, discard=0.1)
    handler.configure(validate_options(FinalizeOptions, {"quality_upload": 0.8}, WHERE))
    assert handler.thresholds == Thresholds(upload=0.8, discard=0.1)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"quality_upload": 2}, f"{WHERE}.quality_upload: Input should be less than or equal to 1"),
        ({"quality_discard": -0.1}, f"{WHERE}.quality_discard: Input should be greater than"),
        (
            {"quality_upload": 0.2, "quality_discard": 0.5},
            f"{WHERE}: quality_discard (0.5) must not exceed quality_upload (0.2)",
        ),
        ({"session_finalize": False}, f"{WHERE}.session_finalize: Extra inputs are not permitted"),
    ],
)
def test_bad_options_are_one_line_naming_the_key(raw: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        validate_options(FinalizeOptions, raw, WHERE)
    assert str(exc.value).startswith(f"invalid settings: {message}")
