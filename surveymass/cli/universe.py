"""``surveymass universe``: build a synthetic universe; ``surveymass universe check``: validate it."""

from __future__ import annotations

import typer

from surveymass.cli import app

universe_app = typer.Typer(help="Build and validate simulated universes.",
                           invoke_without_command=True, no_args_is_help=False)
app.add_typer(universe_app, name="universe")
