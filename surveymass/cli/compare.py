"""``surveymass compare``: our masses against GalWeight, the literature table, or a file."""

from __future__ import annotations

from pathlib import Path

import typer

from surveymass.cli import app
from surveymass.inference.matching import MatchWindow

#: The library's defaults (one source: MatchWindow), shown by --help.
_WINDOW = MatchWindow()


@app.command("compare")
def compare_command(
    results: Path = typer.Argument(..., help="results table (ECSV) from `surveymass infer`"),
    against: str = typer.Option(..., "--against", help="galweight | literature | FILE "
                                "(a table with name, ra, dec, z, log10 M200c and errors)"),
    output: Path | None = typer.Option(None, "-o", "--output",
                                       help="write the per-cluster comparison (ECSV)"),
    plot: Path | None = typer.Option(None, "--plot", help="write the comparison figure"),
    max_separation: float = typer.Option(_WINDOW.max_separation, "--max-sep",
                                         help="match radius [comoving h^-1 Mpc]"),
    max_dv: float = typer.Option(_WINDOW.max_dv, "--max-dv", help="match velocity window [km/s]"),
    refresh: bool = typer.Option(False, "--refresh", help="re-query VizieR, ignore the cache"),
    overwrite: bool = typer.Option(False, "--overwrite",
                                   help="replace existing -o and --plot files"),
) -> None:
    """Compare masses with GalWeight (GalWCat19), the shipped literature table, or FILE."""
    from surveymass.inference.compare import format_summary, read_results, run_compare

    window = MatchWindow(max_separation=max_separation, max_dv=max_dv)
    comparison, stats = run_compare(results, against, output=output, plot=plot,
                                    window=window, refresh=refresh, overwrite=overwrite)
    if stats["n_results_without_mass"] == stats["n_results"]:
        table = read_results(results)
        for row in table[:50]:
            flags = row["flags"] if "flags" in table.colnames else ""
            typer.echo(f"{row['name']:>12s}  no mass  [{flags or 'no flag'}]")
        typer.echo(f"no cluster in {results} has a mass (the flags say why; their meaning "
                   "is in the table's 'flags' metadata): nothing to compare")
        return
    for row in comparison[:50]:  # the full list is in the -o table
        typer.echo(f"{row['name']:>12s}  ours {row['log10_m200c_ours']:.2f} "
                   f"+/- {row['sigma_ours']:.2f}  ref {row['log10_m200c_ref']:.2f} "
                   f"-{row['ref_err_lo']:.2f}/+{row['ref_err_hi']:.2f}  "
                   f"norm. diff {row['normalised_difference']:+.2f}  ({row['reference']})")
    if len(comparison) > 50:
        typer.echo(f"... {len(comparison) - 50} more pairs (see -o)")
    typer.echo(format_summary(stats, against))
