from ox_core.testing_runners import fake_cli, group_gone, wait_dead  # noqa: F401
