"""``surveymass fetch``: the spectroscopic galaxies around a cluster, from SDSS and NED."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import typer

from surveymass.cli import app
from surveymass.errors import InputError


@app.command("fetch")
def fetch(
    name: str | None = typer.Argument(
        None, help="Cluster name or alias from the shipped registry (clusters.ecsv), e.g. "
        "'coma', 'A1656', 'Abell 2142'; unknown names are resolved with NED. Omit it when "
        "giving --ra/--dec/--z."),
    ra: str | None = typer.Option(
        None, "--ra", help="Centre right ascension: decimal degrees or hours as 12:59:48."),
    dec: str | None = typer.Option(
        None, "--dec", help="Centre declination: decimal degrees or +27:58:48."),
    z: float | None = typer.Option(
        None, "--z", help="Cluster redshift (0 < z <= 2); with --ra/--dec, or to override "
        "the registry redshift of NAME."),
    radius: float = typer.Option(
        4.0, "--radius", help="Aperture radius in comoving h^-1 Mpc at the cluster "
        "redshift (converted to a cone angle with Planck15)."),
    vwindow: float = typer.Option(
        4000.0, "--vwindow", help="Half-width of the rest-frame line-of-sight velocity "
        "window around the cluster, km/s."),
    sources: str = typer.Option(
        "both", "--sources", help="Services to query: sdss, ned or both (SDSS preferred "
        "where both have a galaxy)."),
    dr: int = typer.Option(17, "--dr", help="SDSS data release (8 to 19)."),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Output FITS file (default: <name>.fits)."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace the output file if it exists (once the new one "
        "is complete)."),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Ignore cached answers and query the services again "
        "(the cache lives in $SURVEYMASS_CACHE or ~/.cache/surveymass)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Fetch the spectroscopic galaxies around a cluster from SDSS and NED.

    Writes a FITS sky catalogue: columns ra, dec, z, z_err, mag_r, source, objid,
    and a header with the cluster, the query and the counts. Answers are cached."""
    from surveymass.cli.options import cluster_from_options
    from surveymass.fetch import FieldQuery, fetch_field
    from surveymass.outputs import check_outputs

    cluster = cluster_from_options(name, ra, dec, z)
    if cluster is None:
        raise InputError("give a cluster name (e.g. surveymass fetch coma) or --ra/--dec/--z")
    path = output or Path(_file_stem(cluster.name) + ".fits")
    check_outputs([path], overwrite)  # fail before querying anything
    query = FieldQuery(cluster, radius=radius, vwindow=vwindow, sources=sources,
                       data_release=dr)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fetch_field(query, use_cache=not no_cache, quiet=quiet)
        result.write(path, overwrite=overwrite)
    for warning in caught:
        typer.secho(f"warning: {warning.message}", fg=typer.colors.YELLOW, err=True)
    h = result.header
    typer.echo(f"{cluster.name}: {len(result.table)} galaxies (SDSS {h['N_SDSS']}, NED "
               f"{h['N_NED']}) within {radius:g} h^-1 Mpc ({h['ANGRAD']:.1f} arcmin) and "
               f"+-{vwindow:g} km/s -> {path}")
    if "FOOTCOV" in h:
        typer.echo(f"aperture inside the SDSS footprint: {h['FOOTCOV']:.0%}")


def _file_stem(name: str) -> str:
    """A file name from a cluster name: 'Abell 2142' -> 'abell_2142'."""
    return re.sub(r"[^a-z0-9+.-]+", "_", name.lower()).strip("_") or "field"
