"""``surveymass universe``: build a synthetic universe; ``surveymass universe check``: validate it."""

from __future__ import annotations

import typer

from surveymass.cli import app
from surveymass.universe.synthetic.config import SyntheticConfig

#: The synthetic universe's defaults (one source: SyntheticConfig), shown by --help.
_SYNTHETIC = SyntheticConfig()

universe_app = typer.Typer(help="Build and validate simulated universes.",
                           invoke_without_command=True, no_args_is_help=False)
app.add_typer(universe_app, name="universe")


@universe_app.callback()
def build(
    ctx: typer.Context,
    output: str = typer.Option(None, "--output", "-o", help="universe HDF5 file to write"),
    box: float = typer.Option(_SYNTHETIC.box_size, help="box side [h^-1 Mpc]"),
    seed: int = typer.Option(_SYNTHETIC.seed, help="master seed (same seed, same universe)"),
    redshift: float = typer.Option(_SYNTHETIC.redshift, help="snapshot redshift"),
    mag_limit: float = typer.Option(_SYNTHETIC.mag_limit,
                                    help="faintest M_r - 5 log h populated"),
    cell_size: float = typer.Option(_SYNTHETIC.cell_size, help="density-grid cell [h^-1 Mpc]"),
    set_: list[str] = typer.Option(None, "--set", help="any SyntheticConfig parameter, "
                                                       "NAME=VALUE (repeatable)"),
    seeds: list[int] = typer.Option(None, "--seeds", help="an ensemble: one realisation per "
                                    "seed (repeatable), built in parallel on Dask; -o then "
                                    "names the files with {seed}, e.g. u_{seed}.h5"),
    workers: int = typer.Option(1, "--workers", help="with --seeds: local Dask worker "
                                "processes (each builds one universe at a time)"),
    scheduler: str = typer.Option(None, "--scheduler", help="with --seeds: address of a "
                                  "running Dask scheduler instead of a local cluster"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing universe "
                                   "file (once the new one is complete)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bars"),
) -> None:
    """Build the synthetic universe (without a sub-command); see also 'check' and 'convert'."""
    if ctx.invoked_subcommand is not None:
        return
    import sys

    from surveymass.errors import InputError
    from surveymass.universe.synthetic import build_universe

    if output is None:
        raise InputError("give the file to write: surveymass universe -o universe.h5")
    params = {"box_size": box, "seed": seed, "redshift": redshift, "mag_limit": mag_limit,
              "cell_size": cell_size}
    params.update(_parse_settings(set_ or [], SyntheticConfig))
    config = SyntheticConfig.from_dict(params)
    if seeds:
        from surveymass.universe.ensemble import build_ensemble, dask_client

        with dask_client(workers, scheduler) as client:
            paths = build_ensemble(config, seeds, output, client, overwrite=overwrite,
                                   progress=not quiet and sys.stderr.isatty())
        typer.echo("wrote " + ", ".join(map(str, paths)))
        return
    if workers != 1 or scheduler is not None:
        raise InputError("--workers and --scheduler build an ensemble: give --seeds too")
    path = build_universe(config, output, progress=not quiet and sys.stderr.isatty(),
                          overwrite=overwrite)
    typer.echo(f"wrote {path}")


def _parse_settings(settings: list[str], config_class) -> dict:
    """``NAME=VALUE`` strings to typed config parameters (type of the field's default)."""
    import dataclasses

    from surveymass.errors import InputError

    defaults = {f.name: f.default for f in dataclasses.fields(config_class)}
    out = {}
    for item in settings:
        name, sep, text = item.partition("=")
        if not sep or name not in defaults:
            raise InputError(f"--set {item!r}: expected NAME=VALUE with NAME one of "
                             f"{sorted(defaults)}")
        kind = type(defaults[name])
        try:
            if kind is bool and text.lower() not in ("1", "true", "yes", "0", "false", "no"):
                raise ValueError(f"{text!r} is not 1/true/yes or 0/false/no")
            out[name] = text.lower() in ("1", "true", "yes") if kind is bool else kind(text)
        except ValueError as exc:
            raise InputError(f"--set {item!r}: {text!r} is not a {kind.__name__}"
                             + (" (1/true/yes or 0/false/no)" if kind is bool else "")) from exc
    return out


@universe_app.command("check")
def check(
    universe: str = typer.Argument(..., help="universe HDF5 file (surveymass format)"),
    output: str = typer.Option(..., "--output", "-o", help="report folder"),
    seed: int = typer.Option(0, help="seed of the random subsamples"),
    wp_max_galaxies: int = typer.Option(300_000, help="galaxies per w_p sample (subsampled)"),
    profile_max_halos: int = typer.Option(2000, help="halos stacked in the radial profile"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing report "
                                   "folder (once the new one is complete)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bars"),
) -> None:
    """Validate a universe against published statistics; write report.json, report.md, plots."""
    import sys

    from surveymass.universe.check import check_universe, summary_table

    results, files = check_universe(universe, output, seed=seed,
                                    wp_max_galaxies=wp_max_galaxies,
                                    profile_max_halos=profile_max_halos,
                                    progress=not quiet and sys.stderr.isatty(),
                                    overwrite=overwrite)
    typer.echo(summary_table(results))
    typer.echo(f"report: {files['md']}")


@universe_app.command("convert")
def convert(
    input_path: str = typer.Argument(..., metavar="INPUT",
                                     help="Uchuu-UM *_data1.h5, UniverseMachine ASCII or hlist"),
    output: str = typer.Option(..., "--output", "-o", help="universe HDF5 file to write"),
    input_format: str = typer.Option("auto", "--format",
                                     help="auto, uchuu-um, um-ascii or hlist"),
    halo_catalogue: list[str] = typer.Option(None, "--halo-catalogue",
                                             help="Uchuu Rockstar HDF5 file(s) for M200c "
                                                  "(uchuu-um; repeat for several files)"),
    redshift: float = typer.Option(None, help="snapshot redshift (default: from the files)"),
    box_size: float = typer.Option(None, help="box size [h^-1 Mpc] (default: from the files)"),
    true_stellar_mass: bool = typer.Option(False, help="use sm/sfr instead of obs_sm/obs_sfr"),
    min_stellar_mass: float = typer.Option(0.0, help="keep galaxies above this M* [Msun]"),
    min_host_mvir: float = typer.Option(0.0, help="keep hosts above this Mvir [h^-1 Msun]"),
    min_m200c: float = typer.Option(0.0, help="hlist: keep halos above this M200c [h^-1 Msun]"),
    drop_missing_hosts: bool = typer.Option(False, help="drop (and count) satellites whose "
                                                        "host is missing instead of failing"),
    chunk_size: int = typer.Option(1_000_000, help="rows read at a time (bounds memory)"),
    mass_units: str = typer.Option(None, help="um-ascii without a '#Units: ... masses' header "
                                              "line: halo masses in msun (UniverseMachine "
                                              "DR1) or msun/h"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing universe "
                                   "file (once the new one is complete)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="no progress bars"),
) -> None:
    """Convert a simulation catalogue into the surveymass universe format (streaming)."""
    from surveymass.errors import InputError
    from surveymass.universe import readers

    fmt = readers.detect_format(input_path) if input_format == "auto" else input_format
    if fmt not in readers.FORMATS:
        raise InputError(f"--format must be auto or one of {readers.FORMATS}, got {fmt!r}")
    common = dict(redshift=redshift, box_size=box_size, chunk_size=chunk_size, quiet=quiet,
                  overwrite=overwrite)
    galaxy_options = dict(stellar_mass="true" if true_stellar_mass else "obs",
                          min_stellar_mass=min_stellar_mass, min_host_mvir=min_host_mvir,
                          missing_hosts="drop" if drop_missing_hosts else "error")
    if fmt == "hlist":
        config = readers.convert_hlist(input_path, output, min_m200c=min_m200c, **common)
    elif fmt == "uchuu-um":
        config = readers.convert_uchuu_um(input_path, output, halo_catalogue=halo_catalogue,
                                          **common, **galaxy_options)
    else:
        if box_size is None:
            raise InputError("UniverseMachine ASCII headers give no box size: pass --box-size")
        config = readers.convert_um_ascii(input_path, output, mass_units=mass_units,
                                          **common, **galaxy_options)
    counts = ", ".join(f"{k} {v}" for k, v in config["counts"].items())
    typer.echo(f"wrote {output} ({fmt}): {counts}")
