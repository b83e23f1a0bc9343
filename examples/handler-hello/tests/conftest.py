pytest_plugins = ["ox_core.testing"]
