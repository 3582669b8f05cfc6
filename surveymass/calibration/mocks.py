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

A field that :class:`~surveymass.mocks.FieldMaker` does not make because it holds fewer
than MIN_APERTURE_GALAXIES galaxies (the fewest an aperture allows) is kept with richness
MIN_APERTURE_GALAXIES - 1, the most it can hold, and no galaxies otherwise: the real side
keeps its sparse systems too, and dropping the mocks' would cut their richness band off at
log10 3 (an upper bound, so the band's low edge is if anything too high).

With ``true_members`` each field also gets the dispersion of its target halo's true
members (:func:`true_member_dispersion`), the mock counterpart of a sigma from deep
spectroscopic membership such as Mahdavi & Geller's (2001).
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from surveymass.calibration.measure import Binning, FieldSummaries, summarise_fields
from surveymass.errors import InputError
from surveymass.mocks import FieldMaker, HaloDirections, MockConfig
from surveymass.models.membership import member_dispersion
from surveymass.phasespace import MIN_APERTURE_GALAXIES, Aperture
from surveymass.progress import progress_bar
from surveymass.survey import SurveyConfig

BIN_DEX = 0.1
#: Apparent magnitude limit of the deep survey of :func:`true_member_dispersion` (fainter
#: than any universe galaxy in the cylinder of a cluster at z < 0.25).
DEEP_MAG_LIMIT = 29.9


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
    """Summaries of mock fields with their per-field ``weights``, truth ``log10_m200c``,
    redshift ``z_cl`` and, when asked for, ``log_sigma_true_members``
    (:func:`true_member_dispersion`, log10 km/s)."""

    summaries: FieldSummaries
    weights: np.ndarray
    log10_m200c: np.ndarray
    z_cl: np.ndarray
    log_sigma_true_members: np.ndarray | None = None


def deep_member_maker(universe, survey: SurveyConfig, config: MockConfig,
                      seed: int) -> FieldMaker:
    """A FieldMaker that remakes the fields of ``FieldMaker(universe, survey, config,
    seed)`` with the target halo's members only (idealised setup) at the universe's full
    depth: no magnitude limits, fibre collisions or footprint completeness."""
    deep = dataclasses.replace(survey, name=f"{survey.name}_deep", mag_limit=DEEP_MAG_LIMIT,
                               abs_mag_limit=None, galaxy_z_max=None)
    with warnings.catch_warnings():  # deeper than the universe by design
        warnings.filterwarnings("ignore", "the survey reaches")
        return FieldMaker(universe, deep, dataclasses.replace(
            config, setup="idealised", fibre_collisions=False, footprint=False), seed=seed)


def true_member_dispersion(maker: FieldMaker, fields) -> np.ndarray:
    """log10 biweight scale [km/s] of the v_los of the target halo's true members
    (``is_member``: hosted by the halo) in the cylinder of each field, all that the
    universe holds (NaN below MIN_SIGMA_GALAXIES); ``maker`` from
    :func:`deep_member_maker`, ``fields`` (halo_row, direction, los_index, z_cos) of
    fields made with the same seed. The same seed gives the same distance, projection and
    repainted satellites as the survey's field, so these are its members, faint included."""
    velocities = []
    for row, direction, los, z_cos in fields:
        made = maker.make(row, direction, los, z_cos=z_cos)
        velocities.append(np.empty(0) if made is None else made.galaxies["v_los"])
    return member_dispersion(velocities)[0]


def mock_sample(universe, survey, redshifts, log_mass_range: tuple[float, float],
                n_halos: int, n_los: int, aperture: Aperture = Aperture(),
                mock_config: MockConfig | None = None, binning: Binning | None = None,
                seed: int = 0, quiet: bool = False, desc: str = "mock fields",
                true_members: bool = False) -> MockSample:
    """Mock fields of ``survey`` around halos of ``universe`` (see the module docstring),
    each at a cosmological redshift drawn from ``redshifts``, summarised like real ones;
    with ``true_members`` also their true members' dispersion."""
    redshifts = np.asarray(redshifts, float)
    if redshifts.size == 0 or n_los < 1:
        raise InputError("mocks need at least one redshift and one line of sight")
    rng = np.random.default_rng([seed, 7])
    config = calibration_mock_config(mock_config, aperture)
    maker = FieldMaker(universe, survey, config, seed=seed)
    rows, halo_weights = pick_halos(np.log10(universe.halos["m200c"]), log_mass_range,
                                    n_halos, rng)
    directions = HaloDirections(max_los=n_los, seed=seed)
    radii, velocities, weights, masses, zs, made_fields, sparse = [], [], [], [], [], [], []
    with progress_bar(total=len(rows) * n_los, unit="field", desc=desc, quiet=quiet) as bar:
        for row, weight in zip(rows, halo_weights):
            halo_id = int(universe.halos["halo_id"][row])
            for los in range(n_los):
                z_cos = float(rng.choice(redshifts))
                direction = directions.direction(halo_id, los)
                made = maker.make(row, direction, los, z_cos=z_cos)
                bar.update()
                sparse.append(made is None)  # fewer galaxies than MIN_APERTURE_GALAXIES
                radii.append(np.empty(0) if made is None else made.galaxies["r"])
                velocities.append(np.empty(0) if made is None else made.galaxies["v_los"])
                weights.append(weight / n_los)
                masses.append(np.log10(universe.halos["m200c"][row]))
                zs.append(z_cos if made is None else made.row["z_cl"])
                made_fields.append((row, direction, los, z_cos))
    binning = binning or Binning.for_aperture(aperture)
    summaries = summarise_fields(radii, velocities, binning)
    summaries.n_galaxies[np.array(sparse, bool)] = MIN_APERTURE_GALAXIES - 1
    sample = MockSample(summaries, np.array(weights), np.array(masses), np.array(zs))
    if true_members:
        del maker  # one maker's trees in memory at a time
        deep = deep_member_maker(universe, survey, config, seed)
        sample.log_sigma_true_members = true_member_dispersion(deep, progress_bar(
            made_fields, unit="field", quiet=quiet, desc=f"{desc}: true members"))
    return sample
