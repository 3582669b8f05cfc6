"""``surveymass universe check``: validate a simulated universe against published statistics.

:func:`run_checks` runs every check on a :class:`~surveymass.universe.store.Universe` or a
chunked :class:`~surveymass.universe.store.UniverseFile`; :func:`check_universe` does so for a
file and writes the report (``report.json``, ``report.md``, PNG plots). The published values
and tolerances live in :mod:`.references`, the checks in :mod:`.checks`.
"""

from __future__ import annotations

import time
from pathlib import Path

from surveymass.cosmology import cosmology_to_dict
from surveymass.outputs import check_outputs
from surveymass.phasespace import Aperture
from surveymass.progress import progress_bar
from surveymass.universe.check.checks import (
    CheckResult,
    Source,
    check_interloper_fraction,
    check_luminosity_function,
    check_mass_function,
    check_projected_correlation,
    check_radial_velocity,
    check_velocity_dispersion,
)
from surveymass.universe.check.report import (
    report_folder,
    shortfalls,
    summary_table,
    write_report,
)
from surveymass.universe.store import UniverseFile

__all__ = ["CheckResult", "check_universe", "run_checks", "shortfalls", "summary_table",
           "write_report"]


def run_checks(source: Source, seed: int = 0, wp_max_galaxies: int = 300_000,
               profile_max_halos: int = 2000, aperture: Aperture | None = None,
               progress: bool = False) -> list[CheckResult]:
    """Every check, in report order. ``seed`` drives all subsampling; the two limits bound
    the w_p subsample per luminosity threshold and the halos stacked in the radial profile."""
    steps = [
        ("halo mass function", lambda: check_mass_function(source)),
        ("luminosity function", lambda: check_luminosity_function(source)),
        ("w_p(r_p)", lambda: check_projected_correlation(source, max_galaxies=wp_max_galaxies,
                                                         seed=seed)),
        ("velocity dispersion", lambda: check_velocity_dispersion(source)),
        ("radial velocity profile", lambda: check_radial_velocity(
            source, max_halos=profile_max_halos, seed=seed, progress=progress)),
        ("interloper fraction", lambda: check_interloper_fraction(source, aperture=aperture,
                                                                  seed=seed)),
    ]
    results = []
    bar = progress_bar(steps, desc="universe check", quiet=not progress)
    for label, step in bar:
        bar.set_postfix_str(label)
        start = time.perf_counter()
        result = step()
        result.numbers["runtime_s"] = round(time.perf_counter() - start, 2)
        results.append(result)
    return results


def check_universe(path: str | Path, out_dir: str | Path, seed: int = 0,
                   wp_max_galaxies: int = 300_000, profile_max_halos: int = 2000,
                   progress: bool = False, overwrite: bool = False
                   ) -> tuple[list[CheckResult], dict[str, Path]]:
    """Check the universe file at ``path`` (read in chunks) and write the report to ``out_dir``
    (checked first; an existing report is replaced only with ``overwrite``).

    Returns the check results and the paths of the written files.
    """
    check_outputs([report_folder(out_dir)], overwrite)
    settings = dict(seed=seed, wp_max_galaxies=wp_max_galaxies,
                    profile_max_halos=profile_max_halos, line_of_sight="z")
    with UniverseFile(path) as universe:
        description = dict(path=str(path), box_size=universe.box_size,
                           redshift=universe.redshift, n_halos=universe.count("halos"),
                           n_galaxies=universe.count("galaxies"),
                           cosmology=cosmology_to_dict(universe.cosmology),
                           config=universe.config, provenance=universe.provenance)
        results = run_checks(universe, seed=seed, wp_max_galaxies=wp_max_galaxies,
                             profile_max_halos=profile_max_halos, progress=progress)
    files = write_report(results, out_dir, description, settings, overwrite)
    return results, files
