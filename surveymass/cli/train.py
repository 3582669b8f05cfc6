"""``surveymass train``: a training set -> a model bundle (by default the user's
``$SURVEYMASS_HOME/trained_models/NAME/``, see :mod:`surveymass.paths`)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from surveymass.cli import app

_DEFAULT = "[default: the library default, see docs/models.md]"


@app.command("train")
def train(
    training_set: Path = typer.Argument(..., help="training-set folder (from `surveymass mocks`)"),
    name: str = typer.Option(..., "--name", help="bundle name; written to "
                             "$SURVEYMASS_HOME/trained_models/NAME (default SURVEYMASS_HOME: "
                             "~/.local/share/surveymass); a shipped name is the shipped "
                             "bundle's folder"),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="bundle folder [default: "
                                          "$SURVEYMASS_HOME/trained_models/NAME]"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    seed: int = typer.Option(0, "--seed", help="seed of weights, batches and sampling"),
    epochs: Optional[int] = typer.Option(None, "--epochs", help=f"most epochs {_DEFAULT}"),
    patience: Optional[int] = typer.Option(None, "--patience",
                                           help=f"early-stopping patience {_DEFAULT}"),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help=f"fields per batch "
                                                                        f"{_DEFAULT}"),
    learning_rate: Optional[float] = typer.Option(None, "--lr", help=f"AdamW rate {_DEFAULT}"),
    width: Optional[int] = typer.Option(None, "--width", help=f"MLP width {_DEFAULT}"),
    latent: Optional[int] = typer.Option(None, "--latent", help=f"galaxy latent {_DEFAULT}"),
    context: Optional[int] = typer.Option(None, "--context", help=f"field context {_DEFAULT}"),
    blocks: Optional[int] = typer.Option(None, "--blocks", help=f"Deep Sets blocks {_DEFAULT}"),
    flow_bins: Optional[int] = typer.Option(None, "--flow-bins", help=f"spline bins {_DEFAULT}"),
    estimator: str = typer.Option("gapper", "--estimator", help="gapper | biweight"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing bundle "
                                   "folder (a shipped bundle too) once the new one is complete"),
    features: str = typer.Option("full", "--features",
                                 help="full | kinematic (phase space only: no magnitudes, "
                                 "depth or galaxy count; the kinematics-only posterior)"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bars"),
) -> None:
    """Train the interloper classifier, the M–sigma fit and the mass posterior."""
    from surveymass.models.deepsets import Architecture
    from surveymass.models.pipeline import train_bundle
    from surveymass.models.training import TrainingConfig

    def given(**options):
        return {k: v for k, v in options.items() if v is not None}

    architecture = Architecture(**given(width=width, latent=latent, context=context,
                                        blocks=blocks, flow_bins=flow_bins))
    config = TrainingConfig(seed=seed, **given(batch_size=batch_size, max_epochs=epochs,
                                               learning_rate=learning_rate, patience=patience))
    folder = train_bundle(training_set, name, output, architecture, config, estimator,
                          device, quiet, overwrite, features)
    typer.echo(f"bundle written to {folder}")
