"""``surveymass calibrate``: mass-free checks of the mocks against real SDSS clusters."""

from __future__ import annotations

from pathlib import Path

import typer

from surveymass.calibration.config import CalibrationConfig
from surveymass.cli import app
from surveymass.errors import InputError

#: The library's defaults (one source: CalibrationConfig), shown by --help.
_CALIBRATION = CalibrationConfig()


@app.command("calibrate")
def calibrate(
    universe: Path = typer.Option(..., "--universe", "-u",
                                  help="Universe HDF5 file the mocks are made from."),
    output: Path = typer.Option(..., "-o", "--output",
                                help="Folder for calibration.json, calibration.md and plots."),
    halos: int = typer.Option(
        _CALIBRATION.n_halos, "--halos", help="Halos of the systems' mocks (stratified in "
        "mass, weighted to the universe's mass function)."),
    los: int = typer.Option(_CALIBRATION.n_los, "--los", help="Lines of sight per halo."),
    coma_halos: int = typer.Option(_CALIBRATION.coma_halos, "--coma-halos",
                                   help="Halos of Coma's mocks."),
    mass_min: float = typer.Option(
        _CALIBRATION.log_mass_range[0], "--mass-min",
        help="Lowest log10 M200c of the systems' mocks [h^-1 Msun]."),
    mass_max: float = typer.Option(_CALIBRATION.log_mass_range[1], "--mass-max",
                                   help="Highest log10 M200c."),
    seed: int = typer.Option(_CALIBRATION.seed, "--seed",
                             help="Master seed (same seed, same report)."),
    galaxy_halo: str = typer.Option(
        "none", "--galaxy-halo", help="Galaxy-halo nuisance prior of the mocks: none, "
        "default or a TOML file of ranges (docs/synthetic_universe.md); calibrate the "
        "prior a bundle is trained with."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="Write the PNG plots."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing report "
                                   "folder (once the new one is complete)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Compare the Mahdavi & Geller (2001) systems in the SDSS DR7 volume-limited sample,
    and Coma, with mocks of the same surveys: richness at fixed sigma, stacked profile,
    phase space (see docs/calibration.md). Exit status 1 when the richness check at fixed
    MG01 sigma (mocks: sigma of the halo's true members with MG01's errors) fails."""
    from surveymass.calibration.report import CHECKS, report_folder, write_report
    from surveymass.calibration.run import calibrate as run
    from surveymass.mocks.config import MockConfig
    from surveymass.outputs import check_outputs
    from surveymass.universe.store import read_universe
    from surveymass.universe.synthetic.nuisance import load_prior

    check_outputs([report_folder(output)], overwrite)
    if not universe.exists():
        raise InputError(f"universe file {universe} does not exist")
    config = CalibrationConfig(log_mass_range=(mass_min, mass_max), n_halos=halos,
                               n_los=los, coma_halos=coma_halos, seed=seed,
                               mock_config=MockConfig(galaxy_halo=load_prior(galaxy_halo)))
    result = run(read_universe(universe), config, quiet=quiet)
    write_report(result, output, plots=plots, overwrite=overwrite)
    check = result["verdict"]["check"]
    for key, label in CHECKS.items():
        verdict = result[key]["verdict"]
        typer.echo(f"richness at fixed {label}: {verdict['status']} "
                   f"({verdict['n_passed']}/{verdict['n_judged']} sigma bins)"
                   + (" <- exit status" if key == check else ""))
    typer.echo(f"wrote {output}")
    if result[check]["verdict"]["status"] == "FAIL":
        raise typer.Exit(1)
