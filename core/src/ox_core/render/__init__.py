"""The screens a person reads: `status`, `doctor`, `plugins`. Built with rich.

Every function takes plain data (what the daemon answers over IPC, or what `doctor` collected)
and returns a rich renderable, so tests render them into a recording console. This package is
imported only by the commands that draw, never by `--help`.
"""

from ox_core.render.doctor import doctor_screen
from ox_core.render.plugins import plugins_screen
from ox_core.render.status import status_screen

__all__ = ["doctor_screen", "plugins_screen", "status_screen"]
