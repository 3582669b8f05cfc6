"""The ``surveymass`` command line: a thin layer over the Python API.

Each sub-command lives in its own module and registers itself on :data:`app`; heavy
imports (torch, astroquery) happen inside the commands so that start-up stays fast.
User errors (:class:`~surveymass.errors.SurveymassError`) print a one-line message and
exit with status 2, without a traceback. SIGTERM becomes ``SystemExit`` (status 143), so
that, as after Ctrl-C, every open output is cleaned up and no partial file is left.
"""

from __future__ import annotations

import functools
import os
import signal
import sys

import typer

from surveymass.errors import SurveymassError

app = typer.Typer(
    name="surveymass",
    help="Weigh galaxy clusters from the motions of their galaxies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts hold units in [brackets]: print them as written
)

# Command modules, imported for their registration side effect (order = help order).
_COMMAND_MODULES = ["fetch", "infer", "universe", "mocks", "compare", "train", "evaluate",
                    "calibrate"]


def _register() -> None:
    import importlib

    for name in _COMMAND_MODULES:
        importlib.import_module(f"surveymass.cli.{name}")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``surveymass`` script; returns the exit status. Usage errors are
    reported by typer itself (its standalone mode), user errors here."""
    _register()
    signal.signal(signal.SIGTERM, functools.partial(_terminate, os.getpid()))
    try:
        app(args=argv, standalone_mode=True)
    except SurveymassError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def _terminate(main_pid: int, signum: int, frame) -> None:
    """SIGTERM handler: the command unwinds like after an exception, so that its temporary
    outputs are removed; forked workers (mocks --workers) just end."""
    if os.getpid() != main_pid:
        os._exit(128 + signum)
    typer.secho("terminated (SIGTERM); temporary files removed", fg=typer.colors.RED, err=True)
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
