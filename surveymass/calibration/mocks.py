"""The mock side of the calibration: fields of chosen halos through the same survey.

Halos are drawn stratified in mass (:func:`pick_halos`: equal numbers per 0.1-dex bin of
log10 M200c over the range) and weighted back to the universe's own mass function (weight
= halos in the bin / halos drawn), so that statistics at fixed sigma are those of a
mass-function-distributed population while rare massive halos are still sampled. Each
halo is seen along ``n_los`` lines of sight; each field is placed at a redshift drawn from
the given ones (the real systems'). Fields come from :class:`surveymass.mocks.FieldMaker`
with the caller's :class:`~surveymass.mocks.MockConfig` (setup forced to cylindrical, the
aperture's minimum richness to the smallest allowed), so a config that varies the
galaxy-halo connection gives varied mocks here unchanged.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from surveymass.calibration.measure import Binning, FieldSummaries, summarise_fields
from surveymass.errors import InputError
from surveymass.mocks import FieldMaker, HaloDirections, MockConfig
from surveymass.phasespace import MIN_APERTURE_GALAXIES, Aperture
from surveymass.progress import progress_bar

BIN_DEX = 0.1


def calibration_mock_config(base: MockConfig | None, aperture: Aperture) -> MockConfig:
    """``base`` (default MockConfig()) with the cylindrical setup and ``aperture`` keeping
    fields down to MIN_APERTURE_GALAXIES galaxies (richness must not be pre-selected)."""
    base = base or MockConfig()
    return dataclasses.replace(base, setup="cylindrical", aperture=Aperture(
        aperture.r_max, aperture.v_max, MIN_APERTURE_GALAXIES))


def pick_halos(log_mass: np.ndarray, log_mass_range: tuple[float, float], n_halos: int,
               rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Rows of about ``n_halos`` halos, equal numbers per 0.1-dex bin of ``log_mass``
    within ``log_mass_range``, and their mass-function weights."""
    lo, hi = log_mass_range
    if not lo < hi or n_halos < 1:
        raise InputError(f"need log-mass-min < log-mass-max and halos >= 1, got "
                         f"{log_mass_range}, {n_halos}")
    edges = np.arange(lo, hi + BIN_DEX / 2, BIN_DEX)
    per_bin = int(np.ceil(n_halos / max(len(edges) - 1, 1)))
    rows, weights = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        inside = np.flatnonzero((log_mass >= a) & (log_mass < b))
        if inside.size:
            chosen = rng.choice(inside, size=min(per_bin, inside.size), replace=False)
            rows.append(chosen)
            weights.append(np.full(chosen.size, inside.size / chosen.size))
    if not rows:
        raise InputError(f"the universe has no halos with {lo} <= log10 M200c < {hi}")
    return np.concatenate(rows), np.concatenate(weights)


@dataclasses.dataclass
class MockSample:
    """Summaries of mock fields with their per-field ``weights``, truth ``log10_m200c``
    and redshift ``z_cl``."""

    summaries: FieldSummaries
    weights: np.ndarray
    log10_m200c: np.ndarray
    z_cl: np.ndarray


def mock_sample(universe, survey, redshifts, log_mass_range: tuple[float, float],
                n_halos: int, n_los: int, aperture: Aperture = Aperture(),
                mock_config: MockConfig | None = None, binning: Binning | None = None,
                seed: int = 0, quiet: bool = False, desc: str = "mock fields") -> MockSample:
    """Mock fields of ``survey`` around halos of ``universe`` (see the module docstring),
    each at a cosmological redshift drawn from ``redshifts``, summarised like real ones."""
    redshifts = np.asarray(redshifts, float)
    if redshifts.size == 0 or n_los < 1:
        raise InputError("mocks need at least one redshift and one line of sight")
    rng = np.random.default_rng([seed, 7])
    maker = FieldMaker(universe, survey, calibration_mock_config(mock_config, aperture),
                       seed=seed)
    rows, halo_weights = pick_halos(np.log10(universe.halos["m200c"]), log_mass_range,
                                    n_halos, rng)
    directions = HaloDirections(max_los=n_los, seed=seed)
    radii, velocities, weights, masses, zs = [], [], [], [], []
    with progress_bar(total=len(rows) * n_los, unit="field", desc=desc, quiet=quiet) as bar:
        for row, weight in zip(rows, halo_weights):
            halo_id = int(universe.halos["halo_id"][row])
            for los in range(n_los):
                z_cos = float(rng.choice(redshifts))
                made = maker.make(row, directions.direction(halo_id, los), los, z_cos=z_cos)
                bar.update()
                if made is None:  # fewer galaxies than MIN_APERTURE_GALAXIES
                    continue
                radii.append(made.galaxies["r"])
                velocities.append(made.galaxies["v_los"])
                weights.append(weight / n_los)
                masses.append(made.row["log10_m200c"])
                zs.append(made.row["z_cl"])
    binning = binning or Binning.for_aperture(aperture)
    return MockSample(summarise_fields(radii, velocities, binning), np.array(weights),
                      np.array(masses), np.array(zs))
