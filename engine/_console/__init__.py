"""The web console of ``stepline serve``: machines, executions and their live graphs.

ADR 0042. `console_routes` gives the Starlette routes; `ConsoleAuth` the login with the
API's access keys.
"""

from engine._console.app import console_routes
from engine._console.auth import ANONYMOUS, COOKIE, Caller, ConsoleAuth

__all__ = ["ANONYMOUS", "COOKIE", "Caller", "ConsoleAuth", "console_routes"]
