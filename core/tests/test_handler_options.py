"""A handler's own options: a pydantic `Options` model read from `[handlers.<type>]`,
validated when the handler is loaded (one line naming the key), handed to `configure`, and
handed again after a config edit (an invalid edit keeps the old options)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from ox_core.config import validate_options
from ox_core.contracts import HandlerOptions
from ox_core.daemon import Daemon, make_handlers
from ox_core.daemon_setup import ConfigReloader
from ox_core.errors import ConfigError
from ox_core.plugins import LoadedPlugins
from ox_core.settings import load_settings
from ox_core.testing import IdleHandler


class LimitOptions(HandlerOptions):
    limit: float = Field(0.5, ge=0, le=1, description="A fraction.")
    label: str = Field("x", description="A name.")


class Limited(IdleHandler):
    type = "limited"
    Options = LimitOptions

    def __init__(self) -> None:
        self.seen: list[LimitOptions] = []

    def configure(self, options: LimitOptions) -> None:
        self.seen.append(options)


def plugins() -> LoadedPlugins:
    return LoadedPlugins(runners={}, handlers={"limited": Limited}, errors=(), plugins=())


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("OX_CONFIG_FILE", str(path))
    for key in ("OX_HANDLERS", "OX_AGENT_WORK"):
        monkeypatch.delenv(key, raising=False)
    return path


def test_options_reach_configure_as_the_model(config_file: Path) -> None:
    config_file.write_text('[handlers.limited]\nlimit = 0.25\nlabel = "y"\n')
    handlers, errors = make_handlers(plugins(), load_settings().handlers)
    assert errors == []
    assert handlers[0].seen == [LimitOptions(limit=0.25, label="y")]  # type: ignore[attr-defined]


def test_no_table_gives_the_defaults(config_file: Path) -> None:
    handlers, errors = make_handlers(plugins(), load_settings().handlers)
    assert (errors, handlers[0].seen) == ([], [LimitOptions()])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("limit = 2", "handlers.limited.limit: Input should be less than or equal to 1"),
        (
            'limit = "lots"',
            "handlers.limited.limit: Input should be a valid number, "
            "unable to parse string as a number",
        ),
        ("colour = 1", "handlers.limited.colour: Extra inputs are not permitted"),
    ],
)
def test_an_invalid_option_is_one_line_naming_the_key_and_its_file(
    config_file: Path, table: str, message: str
) -> None:
    config_file.write_text(f"[handlers.limited]\n{table}\n")
    handlers, errors = make_handlers(plugins(), load_settings().handlers)
    assert handlers == []  # not started with options it did not ask for
    assert [(e.name, e.error) for e in errors] == [
        ("limited", f"invalid settings: {message} (from file {config_file})")
    ]
    assert "\n" not in errors[0].error


def test_an_invalid_option_of_one_variable_names_it(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.write_text('[handlers.limited]\nlabel = "from the file"\n')
    monkeypatch.setenv("OX_HANDLERS__LIMITED__LIMIT", "3")
    _handlers, errors = make_handlers(plugins(), load_settings().handlers)
    assert errors[0].error == (
        "invalid settings: handlers.limited.limit: Input should be less than or equal to 1 "
        "(from env OX_HANDLERS__LIMITED__LIMIT)"
    )


def test_an_invalid_runner_option_names_where_it_was_set(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ox_core.cli_runner import CliRunner

    class Fake(CliRunner):
        name = "fake"
        executable = "fake"

        def authentication(self, binary: str, env: object) -> tuple[bool, str]:
            return True, ""

        def command(self, binary: str, request: Any) -> list[str]:
            return [binary]

        def parse(self, outcome: Any) -> Any:
            raise NotImplementedError

    config_file.write_text("[runners.fake]\ntimeout = -1\n")
    with pytest.raises(ConfigError) as exc:
        Fake(**load_settings().runners["fake"])
    assert str(exc.value) == (
        "runner fake: invalid options: timeout: Input should be greater than 0 "
        f"(from file {config_file})"
    )
    config_file.write_text("")
    monkeypatch.setenv("OX_RUNNERS__FAKE__GRACE", "99")
    with pytest.raises(ConfigError, match=r"grace: .* \(from env OX_RUNNERS__FAKE__GRACE\)$"):
        Fake(**load_settings().runners["fake"])
    with pytest.raises(ConfigError) as exc:  # given by a caller, not the config: no source
        Fake(timeout=-2)
    assert str(exc.value) == "runner fake: invalid options: timeout: Input should be greater than 0"


def test_the_environment_table_is_validated_too(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OX_HANDLERS", '{"limited": {"limit": -1}}')
    _handlers, errors = make_handlers(plugins(), load_settings().handlers)
    assert errors[0].error == (
        "invalid settings: handlers.limited.limit: Input should be greater than or equal to 0 "
        "(from env OX_HANDLERS)"
    )


def test_validate_options_refuses_a_table_that_is_not_one() -> None:
    with pytest.raises(ConfigError, match=r"^invalid settings: handlers\.limited"):
        validate_options(LimitOptions, 5, "handlers.limited")  # type: ignore[arg-type]


def test_a_handler_key_left_in_agent_work_says_where_it_goes(config_file: Path) -> None:
    config_file.write_text("[agent_work]\nquality_upload = 0.5\n")
    with pytest.raises(ConfigError) as exc:
        load_settings()
    assert str(exc.value) == (
        "invalid settings: agent_work.quality_upload: Extra inputs are not permitted "
        "(a handler's own options go in its [handlers.<type>] table) "
        f"(from file {config_file})"
    )


def test_a_config_edit_reconfigures_the_handlers(config_file: Path, tmp_path: Path) -> None:
    config_file.write_text("[handlers.limited]\nlimit = 0.1\n")
    settings = load_settings()
    daemon = Daemon(settings, tmp_path, tmp_path / "s.sock", plugins=plugins())
    daemon.handlers, _ = make_handlers(plugins(), settings.handlers)
    handler: Any = daemon.handlers[0]
    reloader: ConfigReloader = daemon._config_source
    config_file.write_text("[handlers.limited]\nlimit = 0.9\n")
    reloader()
    assert [o.limit for o in handler.seen] == [0.1, 0.9]
    config_file.write_text("[handlers.limited]\nlimit = 9\n\n")  # invalid: the old stays
    reloader()
    assert [o.limit for o in handler.seen] == [0.1, 0.9]
