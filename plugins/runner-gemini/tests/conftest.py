"""The runner test kit of ox-core (`ox_core.testing_runners`): fake CLIs replaying the
recordings in `data/`, and the real vendor CLI from npm against a fake model API."""

from ox_core.testing_runners import fake_cli, group_gone, real_cli_kit, wait_dead

__all__ = ["fake_cli", "group_gone", "real_cli_kit", "wait_dead"]
