"""The manager's view of its config: the provider's latest value, or the last good one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from ox_core.config import AgentWorkerConfig

log = logging.getLogger("ox_core.manager")

ConfigProvider = Callable[[], AgentWorkerConfig]


class LastGoodConfig:
    """Calls `provider` on `refresh()`; when it raises (an invalid edit) or returns something
    else, the last good config stays, with one warning per breakage. `on_change(config)` is
    called when a new value is taken. `all_enabled`: every type of `work_types` is enabled."""

    def __init__(
        self,
        provider: ConfigProvider,
        work_types: Iterable[str],
        on_change: Callable[[AgentWorkerConfig], None],
    ) -> None:
        self._provider = provider
        self._types = tuple(work_types)
        self._on_change = on_change
        self._broken = False
        self.current = provider()
        self.all_enabled = self._all_enabled(self.current)

    def _all_enabled(self, config: AgentWorkerConfig) -> bool:
        return not config.disabled_types and all(map(config.type_enabled, self._types))

    def refresh(self) -> AgentWorkerConfig:
        try:
            config = self._provider()
            if not isinstance(config, AgentWorkerConfig):
                raise TypeError(f"config provider returned {type(config).__name__}")
        except Exception as exc:
            if not self._broken:  # once per breakage, not once per cycle
                log.warning("manager: config provider failed, keeping the last config: %s", exc)
                self._broken = True
            return self.current
        if self._broken:
            log.info("manager: config provider works again")
            self._broken = False
        if config is not self.current:
            self._on_change(config)
            self.all_enabled = self._all_enabled(config)
            self.current = config
        return config
