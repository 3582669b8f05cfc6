"""``surveymass mocks``: mock observations of a simulated universe, written as a training set."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from surveymass.cli import app
from surveymass.mocks.config import MassBins, MockConfig, TrainingSetConfig
from surveymass.phasespace import Aperture
from surveymass.survey import DEFAULT_SURVEY

#: The library's defaults (one source: the config dataclasses), shown by --help.
_MOCKS, _SET = MockConfig(), TrainingSetConfig()


@app.command("mocks")
def mocks(
    universe: List[Path] = typer.Option(
        ..., "--universe", "-u", help="Universe HDF5 file (from 'surveymass universe' or a "
        "reader of simulation outputs); repeat it for an ensemble of realisations, loaded "
        "one at a time, each giving its share of the fields."),
    output: Path = typer.Option(..., "-o", "--output", help="Training-set folder to write."),
    survey: str = typer.Option(
        DEFAULT_SURVEY, "--survey", help="Survey config: a shipped name or a TOML file."),
    setup: str = typer.Option(
        _MOCKS.setup, "--setup", help="cylindrical (every galaxy in the aperture) or "
        "idealised (members of the target halo only)."),
    n_fields: int = typer.Option(
        _SET.n_fields, "--n-fields", help="Fields flat in mass over train + val + test."),
    seed: int = typer.Option(_SET.seed, "--seed",
                             help="Master seed (same seed, same training set)."),
    mass_min: float = typer.Option(
        _SET.bins.log_min, "--mass-min",
        help="Lowest log10 M200c [h^-1 Msun] (the prior's lower edge; see docs/models.md)."),
    mass_max: float = typer.Option(
        _SET.bins.log_max, "--mass-max",
        help="Highest log10 M200c (15.2 fills the default synthetic universe)."),
    bin_width: float = typer.Option(_SET.bins.width, "--bin-width",
                                    help="Mass bin width [dex] over which the set is flat."),
    max_los: int = typer.Option(_SET.max_los, "--max-los", help="Most lines of sight per halo."),
    n_natural: Optional[int] = typer.Option(
        None, "--n-natural", help="Fields of the natural-mass-function test split "
        "(default: the size of the flat test split)."),
    r_max: float = typer.Option(_MOCKS.aperture.r_max, "--r-max",
                                help="Aperture radius [comoving h^-1 Mpc]."),
    v_max: float = typer.Option(_MOCKS.aperture.v_max, "--v-max",
                                help="Aperture |v_los| limit [km/s]."),
    min_galaxies: int = typer.Option(_MOCKS.aperture.min_galaxies, "--min-galaxies",
                                     help="Fewest galaxies per field."),
    fibres: bool = typer.Option(_MOCKS.fibre_collisions, "--fibres/--no-fibres",
                                help="Apply the survey's fibre collisions."),
    footprint: bool = typer.Option(_MOCKS.footprint, "--footprint/--no-footprint",
                                   help="Place clusters in, and cut galaxies to, the "
                                   "survey's footprint map."),
    galaxy_halo: str = typer.Option(
        "none", "--galaxy-halo", help="Galaxy-halo nuisance prior with which each field "
        "repaints its cluster's satellites: 'default' (docs/synthetic_universe.md), 'none' "
        "(the universe's galaxies as they are) or a TOML file of name = [low, high]."),
    galaxy_halo_fixed: Optional[List[str]] = typer.Option(
        None, "--galaxy-halo-fixed", help="Fix every nuisance (robustness sets): name=VALUE "
        "or name=pNN (NN-th percentile of the prior); repeat for several; the others sit "
        "at their range's centre."),
    workers: int = typer.Option(1, "--workers", help="Processes making fields (same result "
                                "for any number)."),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="Replace an existing training set in --output (once "
                                   "the new one is complete)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Make mock sky fields around the universe's halos as the survey would observe them,
    and write a training set (train/val/test split by halo, plus test_natural)."""
    import numpy as np

    from surveymass.mocks.build import make_ensemble_training_set, make_training_set
    from surveymass.mocks.fields import check_window
    from surveymass.mocks.lines_of_sight import check_fillable
    from surveymass.mocks.trainingset import output_folder
    from surveymass.outputs import check_outputs
    from surveymass.survey import load_survey
    from surveymass.universe.store import UniverseFile
    from surveymass.universe.synthetic.nuisance import load_prior

    check_outputs([output_folder(output)], overwrite)  # before loading the universe
    survey_config = load_survey(survey)
    mock_config = MockConfig(setup=setup, aperture=Aperture(r_max, v_max, min_galaxies),
                             fibre_collisions=fibres, footprint=footprint,
                             galaxy_halo=load_prior(galaxy_halo, galaxy_halo_fixed))
    config = TrainingSetConfig(n_fields=n_fields, bins=MassBins(mass_min, mass_max, bin_width),
                               max_los=max_los, n_natural=n_natural, seed=seed)
    if len(universe) > 1:
        manifest = make_ensemble_training_set(universe, survey_config, output, mock_config,
                                              config, progress=not quiet, workers=workers,
                                              overwrite=overwrite)
    else:
        with UniverseFile(universe[0]) as source:  # checks on the halos, before loading
            check_window(survey_config, mock_config, source.cosmology, source.box_size)
            check_fillable(np.log10(source.read("halos", ["m200c"])["m200c"]), config.bins,
                           config.per_bin, config.max_los)
            catalogue = source.load()
        manifest = make_training_set(catalogue, survey_config, output, mock_config, config,
                                     universe_path=universe[0], progress=not quiet,
                                     workers=workers, overwrite=overwrite)
    counts = ", ".join(f"{name} {s['n_fields']}" for name, s in manifest["splits"].items())
    typer.echo(f"wrote {output}: {counts} fields")
    if manifest["shortfall_per_bin"]:
        typer.secho(f"warning: mass bins short of fields (bin start: missing) "
                    f"{manifest['shortfall_per_bin']}", fg=typer.colors.YELLOW, err=True)
