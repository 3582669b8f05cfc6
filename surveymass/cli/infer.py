"""``surveymass infer``: masses of real clusters from their galaxy catalogues."""

from __future__ import annotations

import math
from pathlib import Path

import typer

from surveymass.cli import app
from surveymass.paths import DEFAULT_OUTPUT


@app.command("infer")
def infer_command(
    catalogs: list[Path] = typer.Argument(
        ..., help="Galaxy catalogues: FITS from `surveymass fetch` (cluster in the header), "
        "or any FITS/ECSV/CSV/Parquet table with ra, dec, z (a cluster-id column of registry "
        "names makes it a batch of clusters); a shipped catalogue by name, e.g. coma_sdss. "
        "With --clusters: one survey table from which every cluster is weighed."),
    clusters: Path | None = typer.Option(
        None, "--clusters", help="Catalogue mode: a table of clusters (name, ra, dec, z; "
        "other columns are carried to the results) to weigh from the one galaxy table."),
    selected: bool = typer.Option(
        False, "--selected", help="The galaxy table holds exactly the galaxies the bundle's "
        "survey selects (e.g. a volume-limited sample without magnitudes): its depth is not "
        "applied again."),
    model: str | None = typer.Option(
        None, "--model", help="Model bundle: a folder, or a name (shipped bundles first, then "
        "yours in $SURVEYMASS_HOME/trained_models; default: the shipped bundle)."),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    samples: int = typer.Option(1000, "--samples", help="Posterior draws per cluster."),
    seed: int = typer.Option(0, "--seed", help="Seed of the posterior draws."),
    output: Path = typer.Option(
        Path(DEFAULT_OUTPUT), "-o", "--output",
        help="Results table (ECSV); per-galaxy probabilities and posterior draws go to "
        "<stem>_details.fits beside it."),
    plots: Path | None = typer.Option(None, "--plots", help="Write one PNG per cluster here."),
    ra: str | None = typer.Option(None, "--ra", help="Cluster RA (deg or 12:59:48) for a "
                                  "catalogue without a cluster in its header."),
    dec: str | None = typer.Option(None, "--dec", help="Cluster Dec (deg or +27:58:48)."),
    z: float | None = typer.Option(None, "--z", help="Cluster redshift (0 < z <= 2); with "
                                   "--ra/--dec, or to override the registry redshift of "
                                   "--name."),
    name: str | None = typer.Option(None, "--name", help="Cluster name: resolved in the "
                                    "registry (or NED) unless --ra/--dec/--z are given."),
    survey: str | None = typer.Option(
        None, "--survey", help="Survey the catalogue comes from; refused unless the bundle "
        "was trained for it."),
    details: bool = typer.Option(
        True, "--details/--no-details", help="Write <stem>_details.fits (per-galaxy "
        "membership and the posterior draws); --no-details for large catalogues."),
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace existing results, details and plots (only once "
        "the new ones are all complete)."),
    prior: str = typer.Option(
        "flat", "--prior", help="Prior of log10 M200c: flat (over the training range, the "
        "convention of published dynamical masses) or mass-function (the halo mass "
        "function at the cluster's redshift: the posterior of a cluster drawn from a "
        "survey's population). See docs/models.md."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Weigh clusters: membership probabilities, velocity dispersion, M-sigma mass and
    the posterior of log10 M200c (h^-1 Msun) for every cluster in CATALOGS."""
    from surveymass.cli.options import cluster_from_options
    from surveymass.inference.infer import details_path, run_infer
    from surveymass.paths import catalog_path

    cluster = cluster_from_options(name, ra, dec, z)
    result = run_infer([catalog_path(c) for c in catalogs], model=model, output=output,
                       n_samples=samples, seed=seed, device=device, cluster=cluster,
                       survey=survey, plots=plots, quiet=quiet, overwrite=overwrite,
                       prior=prior, clusters=clusters, selected=selected, details=details)
    for row in result.results[:50]:
        typer.echo(_summary(row))
    if len(result.results) > 50:
        typer.echo(f"... {len(result.results) - 50} more clusters (see {output})")
    typer.echo(f"results -> {output}"
               + (f"; galaxies and posterior draws -> {details_path(output)}" if details
                  else "") + (f"; plots -> {plots}/" if plots else ""))


def _summary(row) -> str:
    flags = f"  [{row['flags']}]" if row["flags"] else ""
    if math.isnan(row["log10_m200c_median"]):
        return f"{row['name']}: no mass ({row['n_galaxies']} galaxies){flags}"
    return (f"{row['name']}: log10 M200c = {row['log10_m200c_median']:.2f} "
            f"+{row['log10_m200c_p84'] - row['log10_m200c_median']:.2f} "
            f"-{row['log10_m200c_median'] - row['log10_m200c_p16']:.2f} (h^-1 Msun) "
            f"(M-sigma {row['log10_m200c_msigma']:.2f}, sigma_v "
            f"{row['sigma_v'].value:.0f} km/s, {row['n_members']} members of "
            f"{row['n_galaxies']} galaxies{_kinematic(row)}){flags}")


def _kinematic(row) -> str:
    """The kinematics-only posterior, when the bundle has a companion."""
    median = row["log10_m200c_kinematic_median"]
    if math.isnan(median):
        return ""
    return (f"; kinematics only {median:.2f} +{row['log10_m200c_kinematic_p84'] - median:.2f}"
            f" -{median - row['log10_m200c_kinematic_p16']:.2f}")
