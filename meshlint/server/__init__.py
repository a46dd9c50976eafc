"""``meshlint server``: the Language Server Protocol over stdio, for editors.

Built on pygls (the optional extra ``meshlint[server]``); the engine,
configuration discovery and rules are ``check``'s, through ``meshlint.api.Project``.
Set-up for VS Code, Neovim, Helix and Zed: docs/editors.md.
"""

from __future__ import annotations

INSTALL_HINT = "meshlint server needs pygls: pip install 'meshlint[server]'"


class MissingExtra(Exception):
    """pygls is not installed."""


def serve() -> None:
    """Serve one client over stdin/stdout until it exits."""
    try:
        from meshlint.server.protocol import build
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("pygls", "lsprotocol", "cattrs"):
            raise MissingExtra(INSTALL_HINT) from exc
        raise
    build().start_io()
