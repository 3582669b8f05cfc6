"""``surveymass evaluate``: a bundle + a training-set split -> report (JSON, markdown, PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from surveymass.cli import app


@app.command("evaluate")
def evaluate(
    bundle: str = typer.Argument(..., help="bundle folder or shipped bundle name"),
    training_set: Path = typer.Argument(..., help="training-set folder with the test split"),
    output: Path = typer.Option(..., "-o", "--output", help="report folder"),
    split: str = typer.Option("test", "--split", help="test | test_natural | val | train"),
    samples: int = typer.Option(1000, "--samples", help="posterior samples per field"),
    seed: int = typer.Option(0, "--seed", help="seed of the posterior sampling"),
    device: str = typer.Option("auto", "--device", help="auto | cpu | cuda"),
    overwrite: bool = typer.Option(False, "--overwrite", help="replace an existing report "
                                   "folder (once the new report is complete)"),
    robustness: Optional[List[Path]] = typer.Option(
        None, "--robustness", help="another training set (e.g. made with --galaxy-halo-fixed) "
        "whose test split is also evaluated against issue 11's robustness targets; repeat "
        "for several"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bars"),
) -> None:
    """Scatter, bias, coverage (HPD, TARP), Wojtak sigma_N/sigma_0 and membership metrics,
    and a PASS/FAIL per robustness set."""
    from surveymass.models.bundle import load_bundle
    from surveymass.models.evaluate import evaluate_bundle

    report = evaluate_bundle(load_bundle(bundle), training_set, output, split, samples, seed,
                             device, quiet, overwrite, robustness or ())
    s = report["summary"]
    typer.echo(f"scatter {s['scatter_npe_dex']:.3f} dex (M-sigma {s['scatter_msigma_dex']:.3f}); "
               f"coverage deviation HPD {s['coverage']['hpd_max_deviation']:.3f}, TARP "
               f"{s['coverage']['tarp_max_deviation']:.3f}"
               + _prior_coverage(s["coverage"]) + f"; report in {output}")
    for entry in report.get("robustness", []):
        typer.echo(_robustness_line(entry))


def _robustness_line(entry: dict) -> str:
    s, sens = entry["summary"], entry["richness_sensitivity"]
    worst = s["max_abs_bias_bin"]
    where = f" ({worst['lo']:.1f}-{worst['hi']:.1f})" if worst else ""
    return (f"robustness {entry['label']}: {entry['verdict']}; max |bias| "
            f"{s['max_abs_bias_per_0.1dex_bin']:.3f} dex{where}, scatter "
            f"{s['scatter_npe_dex']:.3f} (M-sigma {s['scatter_msigma_dex']:.3f}), coverage "
            f"deviation HPD {s['coverage']['hpd_max_deviation']:.3f}, TARP "
            f"{s['coverage']['tarp_max_deviation']:.3f}, richness sensitivity "
            + ("-" if sens is None else f"{sens['median']:.2f}"))


def _prior_coverage(coverage: dict) -> str:
    mf = coverage.get("mass_function")
    if mf is None:
        return ""
    return (f" (mass-function prior: HPD {mf['hpd_max_deviation']:.3f}, TARP "
            f"{mf['tarp_max_deviation']:.3f})")
