"""``surveymass infer``: cluster masses from real galaxy catalogues with a trained bundle.

Every step reuses the code the mocks and the training used, with the bundle's settings:

1. read and clean the catalogue (:mod:`surveymass.catalog`, the one column map);
2.-3. each cluster's field as the bundle's survey observes it, by the mocks' own path
   (:func:`surveymass.observe.observe_field`): the galaxies the survey would have observed
   (:meth:`surveymass.survey.SurveyConfig.observes`: ``mag_r <= mag_limit``, unknown
   magnitudes kept; for a volume-limited survey also its absolute magnitude and galaxy
   redshift limits, or a header ``SELECTED`` naming the survey), in phase space with the
   bundle's cosmology and cut to the bundle's aperture cylinder;
4. footprint coverage of the aperture (:func:`surveymass.masks.footprint.aperture_coverage`);
5. membership probabilities, sigma of the members, M–sigma and the flow posterior
   (:func:`surveymass.models.predict.predict`, batched on the device);
6. self-consistency: the posterior against M–sigma, the member fraction, and the
   prediction re-run at centre offsets of the size of the centre's uncertainty (one more
   batched predict call), and the cluster redshift against its galaxies' velocities.
7. typicality: percentiles of mass-free summaries among the bundle's held-out mock
   fields (:mod:`surveymass.models.typicality`; the ``misspecified`` flag), the
   kinematics-only posterior of the bundle's companion (``kinematic_companion`` in its
   card), and the prior: flat in log M (the training prior) or the halo mass function
   (:mod:`surveymass.models.population`).

Clusters the bundle cannot weigh get a result row with NaN masses and a flag saying why
(see :data:`FLAGS`); clusters it can weigh but outside what it was trained on get their
numbers and a flag.
"""

from __future__ import annotations

import json
import uuid
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.stats import biweight_location
from astropy.table import MaskedColumn, QTable, Table

from surveymass.cluster import Cluster
from surveymass.cosmology import same_cosmology
from surveymass.errors import InputError
from surveymass.inference.catalogue import catalogue_fields, read_clusters
from surveymass.inference.fields import ClusterField, read_fields, read_galaxies, table_footprint
from surveymass.inference.plots import plot_clusters, plot_paths
from surveymass.masks.footprint import TABLE_DISC_SAMPLES, aperture_coverage
from surveymass.models import typicality
from surveymass.models.bundle import CARD, DEFAULT_BUNDLE, bundle_path, load_bundle
from surveymass.models.data import FieldSet, pad
from surveymass.models.device import resolve_device
from surveymass.models.population import PRIORS, bundle_mass_function_prior, reweight_samples
from surveymass.models.predict import fields_for_bundle, predict
from surveymass.observe import ObservedField, observe_field
from surveymass.outputs import check_outputs, staged_outputs
from surveymass.paths import DEFAULT_OUTPUT
from surveymass.phasespace import PhaseSpace
from surveymass.progress import progress_bar
from surveymass.provenance import file_sha256, provenance
from surveymass.survey import SELECTED_KEYWORD, selection_applied

#: Footprint coverage of the aperture below which a cluster is flagged as incomplete.
INCOMPLETE_COVERAGE = 0.9
#: Posterior percentiles reported in the results table, by column suffix.
PERCENTILES = {"p025": 2.5, "p16": 16.0, "median": 50.0, "p84": 84.0, "p975": 97.5}

#: Disagreement of the posterior median with M–sigma, in combined standard deviations,
#: beyond which a result is flagged (see :func:`msigma_disagreement`).
MSIGMA_DISAGREEMENT = 3.0
#: Members per galaxy in the aperture below which the membership has collapsed.
MEMBER_FRACTION_FLOOR = 0.01
#: Typical uncertainty of a cluster centre on the sky [comoving h^-1 Mpc] (an optical
#: centre on a bright galaxy rather than the X-ray peak; docs/user_guide.md, "Flags").
CENTRE_UNCERTAINTY_MPC = 0.15
#: Least uncertainty of a centre's velocity [km/s]: a redshift quoted to 1e-4 (+-0.5e-4
#: c = 15 km/s) plus the offset of a central galaxy from the members' mean, ~50 km/s.
CENTRE_VELOCITY_FLOOR_KMS = 50.0
#: Sky offsets (east, north) [h^-1 Mpc] of the centre at which the prediction is re-run
#: for the ``centre_sensitive`` flag; the velocity offsets are +-the centre's own velocity
#: uncertainty (:func:`centre_velocity_uncertainty`).
CENTRE_SKY_OFFSETS = tuple((s * dx, s * dy) for dx, dy in
                           ((CENTRE_UNCERTAINTY_MPC, 0), (0, CENTRE_UNCERTAINTY_MPC))
                           for s in (1, -1))
N_CENTRE_OFFSETS = len(CENTRE_SKY_OFFSETS) + 2
#: Half-width [km/s] of the velocity window about the assumed centre whose galaxies
#: locate the cluster in velocity for the ``redshift_offset`` flag.
REDSHIFT_WINDOW_KMS = 1500.0
#: |location| / standard error beyond which the cluster redshift is flagged (see
#: :func:`redshift_offset`).
REDSHIFT_OFFSET = 4.0
#: Posterior draws per re-run at a centre offset (at most): enough for a median whose
#: sampling error (~1.25 w / sqrt(n), w the half-width) is < 0.1 of the half-width.
CENTRE_SAMPLES = 200
#: Effective sample size fraction under the mass-function prior below which the
#: re-weighted posterior rests on too few flat-prior draws.
MIN_ESS_FRACTION = 0.05
#: Posterior percentiles of the kinematics-only companion, by column suffix.
KINEMATIC_PERCENTILES = {"p16": 16.0, "median": 50.0, "p84": 84.0}


@dataclass(frozen=True)
class Flag:
    """One flag of a result row: what it means, its threshold (empty for a plain
    condition) and whether it voids the mass (NaN masses)."""

    meaning: str
    threshold: str = ""
    voids_mass: bool = False


#: The one registry of result flags (written to the results table's meta 'flags').
FLAGS = {
    "redshift_out_of_range": Flag("cluster redshift outside the bundle survey's "
                                  "z_min..z_max", voids_mass=True),
    "outside_footprint": Flag("the aperture lies entirely outside the survey footprint",
                              voids_mass=True),
    "too_few_galaxies": Flag("fewer galaxies in the aperture than the bundle's "
                             "min_galaxies", voids_mass=True),
    "too_few_members": Flag("fewer than 2 members with a finite velocity: no dispersion",
                            voids_mass=True),
    "incomplete_footprint": Flag("part of the aperture lies outside the survey footprint or "
                                 "the sky the galaxy table covers (galaxies are missing; "
                                 "the mass is biased low)",
                                 f"min(footprint_coverage, catalogue_coverage) < "
                                 f"{INCOMPLETE_COVERAGE:g}"),
    "richness_out_of_range": Flag("number of galaxies in the aperture outside the "
                                  "training range"),
    "depth_out_of_range": Flag("limiting absolute magnitude outside the training range"),
    "no_magnitudes": Flag("no galaxy in the aperture has an r magnitude and the table is not "
                          "declared cut to the survey (--selected): the survey depth "
                          "cannot be applied, fainter galaxies than the training fields "
                          "held are counted and the mass is biased high"),
    "msigma_disagreement": Flag(
        "the posterior median and the M-sigma mass disagree beyond their combined "
        "uncertainty (wrong centre or redshift, or a field unlike the training fields)",
        f"|median - M_sigma| > {MSIGMA_DISAGREEMENT:g} sqrt(w^2 + s_Msigma(N_members)^2)"),
    "membership_collapse": Flag(
        "far fewer members than galaxies in the aperture: the field is dominated by "
        "galaxies the classifier calls interlopers (a wrong centre, or a small group "
        "seen through a larger structure)", f"n_members / n_galaxies < "
        f"{MEMBER_FRACTION_FLOOR:g}"),
    "centre_sensitive": Flag(
        "the posterior median moves by more than its 68% width when the centre moves by "
        "its own uncertainty (a wrong position or redshift of the centre)",
        f"re-run at +-{CENTRE_UNCERTAINTY_MPC:g} h^-1 Mpc east and north and at +-max("
        f"sigma / sqrt(N_members), {CENTRE_VELOCITY_FLOOR_KMS:g} km/s); max |median "
        f"shift| > p84 - p16"),
    "redshift_offset": Flag(
        "the galaxies near the cluster redshift are centred elsewhere in velocity: the "
        "cluster redshift is off (the mass is biased low)",
        f"|biweight location of the aperture's v_los within +-{REDSHIFT_WINDOW_KMS:g} km/s| "
        f"> {REDSHIFT_OFFSET:g} max(sigma / sqrt(N_members), {CENTRE_VELOCITY_FLOOR_KMS:g} "
        f"km/s)"),
    "misspecified": Flag(
        "the field does not look like the mock fields the posterior was calibrated on "
        "(columns typicality_*): its width cannot be trusted",
        f"a typicality percentile outside {typicality.LOW:g}-{typicality.HIGH:g} among the "
        f"{typicality.N_NEIGHBOURS} most similar held-out mock fields"),
    "low_prior_support": Flag(
        "the mass-function prior puts its weight where few posterior draws lie",
        f"effective sample size < {MIN_ESS_FRACTION:g} of the draws"),
}
NO_MASS_FLAGS = tuple(name for name, flag in FLAGS.items() if flag.voids_mass)
#: Field features checked against the training range, with the flag they raise.
RANGE_CHECKED_FEATURES = {"log10_n_galaxies": "richness_out_of_range",
                          "mag_lim_abs": "depth_out_of_range"}


@dataclass
class InferenceResult:
    """``results``: one row per cluster (the ECSV columns); ``galaxies``: every galaxy
    with its phase-space position and membership probability; ``samples``: posterior
    draws of log10 M200c [h^-1 Msun], (n_clusters, n_samples), NaN rows where no mass;
    ``kinematic_samples`` the same of the kinematics-only companion (NaN without one)."""

    results: QTable
    galaxies: QTable
    samples: np.ndarray
    kinematic_samples: np.ndarray | None = None


# --- inference -----------------------------------------------------------------------

def _observed_fields(fields: list[ClusterField], bundle, quiet: bool) -> list[ObservedField]:
    """Each cluster's field as the bundle's survey observes it through its aperture (the
    mocks' path, :func:`~surveymass.observe.observe_field`). One call per field: the
    distance is integrated once per cluster instead of once per galaxy."""
    return [observe_field(f.galaxies["ra"], f.galaxies["dec"], f.galaxies["z"],
                          f.galaxies["mag_r"], (f.cluster.ra, f.cluster.dec, f.cluster.z),
                          bundle.survey, bundle.aperture, bundle.cosmology,
                          already_cut=selection_applied(f.galaxies.meta, bundle.survey))
            for f in progress_bar(fields, desc="phase space", quiet=quiet)]


def _concatenate(spaces: list[PhaseSpace]) -> PhaseSpace:
    return PhaseSpace(*(np.concatenate([getattr(ps, k) for ps in spaces])
                        for k in ("x", "y", "r", "v_los")))


def _coverage(bundle, ra, dec, z) -> np.ndarray:
    """Footprint coverage of each aperture; NaN when the bundle's survey has no map."""
    if bundle.survey.footprint_path is None:
        return np.full(len(ra), np.nan)
    return np.atleast_1d(aperture_coverage(ra, dec, z, bundle.aperture.r_max,
                                           bundle.cosmology, bundle.survey.footprint_path))


def _table_coverage(bundle, fields: list[ClusterField]) -> np.ndarray:
    """Fraction of each aperture the field's own galaxy table covers
    (:class:`~surveymass.masks.footprint.TableFootprint`); NaN where not known. Fields cut
    from one table share its footprint and are done in one call."""
    out = np.full(len(fields), np.nan)
    groups: dict[int, list[int]] = {}
    for i, field in enumerate(fields):
        if field.footprint is not None:
            groups.setdefault(id(field.footprint), []).append(i)
    for rows in groups.values():
        clusters = [fields[i].cluster for i in rows]
        out[rows] = aperture_coverage([c.ra for c in clusters], [c.dec for c in clusters],
                                      [c.z for c in clusters], bundle.aperture.r_max,
                                      bundle.cosmology, fields[rows[0]].footprint,
                                      n_samples=TABLE_DISC_SAMPLES)
    return out


def _sky_flags(bundle, z: np.ndarray, n_galaxies: np.ndarray, coverage: np.ndarray,
               table_coverage: np.ndarray) -> list[list[str]]:
    """Flags known before running the networks. Only the survey mask can say a field lies
    outside the survey; the table's own coverage (which a sparse or small table
    underestimates) only flags it incomplete."""
    survey = bundle.survey
    flags = [[] for _ in z]
    for i in range(len(z)):
        if not survey.z_min <= z[i] <= survey.z_max:
            flags[i].append("redshift_out_of_range")
        if coverage[i] == 0:
            flags[i].append("outside_footprint")
        elif np.fmin(coverage[i], table_coverage[i]) < INCOMPLETE_COVERAGE:
            flags[i].append("incomplete_footprint")
        if n_galaxies[i] < bundle.aperture.min_galaxies:
            flags[i].append("too_few_galaxies")
    return flags


def _range_flags(bundle, standardised_field_features: np.ndarray) -> list[list[str]]:
    """Richness/depth flags: field features beyond the range seen in training."""
    names = bundle.normalisation.field_names
    outside = bundle.normalisation.outside_training_range(standardised_field_features)
    flags = [[] for _ in standardised_field_features]
    for feature, flag in RANGE_CHECKED_FEATURES.items():
        if feature not in names:  # a kinematics-only bundle never sees it
            continue
        for i in np.flatnonzero(outside[:, names.index(feature)]):
            flags[i].append(flag)
    return flags


def msigma_disagreement(bundle, median, p16, p84, log10_m_sigma, n_members) -> np.ndarray:
    """|median - M_sigma| / sqrt(w^2 + s^2) per field: w = (p84 - p16) / 2 the posterior's
    half-width, s^2 = sigma_N^2 (100 / n_members) + sigma_0^2 the error of M_sigma from
    n_members members (Wojtak et al. 2018 form, fitted on the bundle's held-out fields:
    card metrics.test.wojtak_msigma). NaN where the card has no such fit."""
    fit = bundle.info.get("metrics", {}).get("test", {}).get("wojtak_msigma")
    if fit is None:
        return np.full(len(median), np.nan)
    s2 = fit["sigma_N"] ** 2 * 100.0 / np.maximum(n_members, 1) + fit["sigma_0"] ** 2
    return np.abs(median - log10_m_sigma) / np.sqrt(((p84 - p16) / 2) ** 2 + s2)


def centre_velocity_uncertainty(sigma: np.ndarray, n_members: np.ndarray) -> np.ndarray:
    """Standard error of the centre's velocity [km/s]: sigma / sqrt(n_members) of the
    members, at least :data:`CENTRE_VELOCITY_FLOOR_KMS` (the floor where sigma is NaN)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        error = np.asarray(sigma, float) / np.sqrt(np.asarray(n_members, float))
    return np.fmax(error, CENTRE_VELOCITY_FLOOR_KMS)


def centre_offsets(velocity_uncertainty: np.ndarray) -> np.ndarray:
    """(n_fields, N_CENTRE_OFFSETS, 3) centre offsets (east, north [h^-1 Mpc], velocity
    [km/s]): :data:`CENTRE_SKY_OFFSETS`, then +-each field's velocity uncertainty."""
    dv = np.atleast_1d(np.asarray(velocity_uncertainty, float))
    out = np.zeros((len(dv), N_CENTRE_OFFSETS, 3))
    out[:, :len(CENTRE_SKY_OFFSETS), :2] = CENTRE_SKY_OFFSETS
    out[:, -2, 2], out[:, -1, 2] = dv, -dv
    return out


def centre_offset_medians(bundle, observed: list[ObservedField], mags: list[np.ndarray],
                          z: np.ndarray, offsets: np.ndarray, n_samples: int, seed: int,
                          device) -> np.ndarray:
    """(n_fields, n_offsets) posterior medians with each field's centre moved by each of
    its ``offsets`` (from :func:`centre_offsets`), from one predict call; NaN where fewer
    than min_galaxies remain in the aperture."""
    moved, where = [], []
    for i, field in enumerate(observed):
        for k, offset in enumerate(offsets[i]):
            shifted = field.recentred(*offset)
            if shifted.n_galaxies >= bundle.aperture.min_galaxies:
                moved.append(shifted)
                where.append((i, k))
    out = np.full(offsets.shape[:2], np.nan)
    if moved:
        rows = np.array(where)
        fieldset = fields_for_bundle(bundle, moved, [mags[i] for i in rows[:, 0]], z[rows[:, 0]])
        out[rows[:, 0], rows[:, 1]] = predict(bundle, fieldset,
                                              n_samples=min(n_samples, CENTRE_SAMPLES),
                                              seed=seed, device=device).median
    return out


def redshift_offset(fields: FieldSet, sigma: np.ndarray, n_members: np.ndarray) -> np.ndarray:
    """|biweight location| of each field's aperture galaxies' v_los within
    +-REDSHIFT_WINDOW_KMS of the assumed centre, in units of the centre's velocity
    uncertainty (:func:`centre_velocity_uncertainty` of the members' sigma and number):
    how far the cluster redshift is from its galaxies' own. NaN with no galaxy in the
    window."""
    v = pad(fields.v_los, fields.offsets)
    with warnings.catch_warnings():  # fields with no galaxy in the window
        warnings.simplefilter("ignore", RuntimeWarning)
        location = biweight_location(np.where(np.abs(v) < REDSHIFT_WINDOW_KMS, v, np.nan),
                                     axis=1, ignore_nan=True)
    return np.abs(location) / centre_velocity_uncertainty(sigma, n_members)


def _consistency_flags(bundle, fieldset, prediction, shifted_medians) -> list[list[str]]:
    """Flags of results that disagree with themselves (see :data:`FLAGS`)."""
    p16, median, p84 = _percentiles(prediction.samples, (16, 50, 84))
    disagreement = msigma_disagreement(bundle, median, p16, p84, prediction.log10_m_sigma,
                                       prediction.n_members)
    with warnings.catch_warnings():  # all-NaN rows: no offset left enough galaxies
        warnings.simplefilter("ignore", RuntimeWarning)
        moved = np.nanmax(np.abs(shifted_medians - median[:, None]), axis=1)
    checks = {
        "msigma_disagreement": disagreement > MSIGMA_DISAGREEMENT,
        "membership_collapse": prediction.n_members < MEMBER_FRACTION_FLOOR
        * fieldset.n_galaxies,
        "centre_sensitive": moved > p84 - p16,
        "redshift_offset": redshift_offset(fieldset, prediction.sigma, prediction.n_members)
        > REDSHIFT_OFFSET,
    }
    return [[name for name, hit in checks.items() if hit[i]] for i in range(len(median))]


def _typicality(bundle, fieldset, prediction) -> dict[str, np.ndarray]:
    """Typicality percentiles of each field (NaN without the bundle's reference)."""
    if bundle.reference is None:
        return {name: np.full(fieldset.n_fields, np.nan) for name in typicality.SUMMARIES}
    observed = typicality.summaries(fieldset, prediction.n_members,
                                    prediction.log10_m_sigma, prediction.samples)
    return bundle.reference.percentiles(observed)


def _kinematic_samples(kinematic, observed, mags, z, n_samples, seed, device) -> np.ndarray:
    """Posterior draws of the kinematics-only companion bundle (NaN rows without one)."""
    if kinematic is None:
        return np.full((len(observed), n_samples), np.nan, dtype=np.float32)
    fieldset = fields_for_bundle(kinematic, observed, mags, z)
    return predict(kinematic, fieldset, n_samples=n_samples, seed=seed, device=device).samples


def _apply_prior(bundle, prior: str, samples: np.ndarray, z: np.ndarray, seed: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Draws under ``prior`` and the effective sample size fraction (1 for the flat
    prior, which the draws already follow)."""
    if prior == "flat":
        return samples, np.ones(len(samples))
    resampled = reweight_samples(samples, z, bundle_mass_function_prior(bundle), seed)
    return resampled.samples, resampled.ess_fraction


@dataclass
class _Robust:
    """What the robustness checks add to the fields a bundle weighed (one row each)."""

    samples: np.ndarray
    kinematic_samples: np.ndarray
    percentiles: dict[str, np.ndarray]
    flags: list[list[str]]


def _robustness(bundle, prior: str, kinematic, fieldset, prediction, observed,
                n_samples: int, seed: int, device) -> _Robust:
    """The draws under ``prior``, the kinematics-only draws, the typicality percentiles and
    their flags; ``observed`` is (observed fields, magnitudes) of the weighed fields."""
    z = fieldset.z_cl
    samples, ess = _apply_prior(bundle, prior, prediction.samples, z, seed)
    kinematic_draws = _kinematic_samples(kinematic, *observed, z, n_samples, seed, device)
    percentiles = _typicality(bundle, fieldset, prediction)
    flags = [["low_prior_support"] * bool(low) + ["misspecified"] * bool(odd)
             for low, odd in zip(ess < MIN_ESS_FRACTION, typicality.atypical(percentiles))]
    return _Robust(samples, _apply_prior(bundle, prior, kinematic_draws, z, seed)[0],
                   percentiles, flags)


def infer_fields(fields: list[ClusterField], bundle, n_samples: int = 1000, seed: int = 0,
                 device: str = "auto", quiet: bool = True, prior: str = "flat",
                 kinematic=None) -> InferenceResult:
    """Weigh every field with ``bundle`` (a :class:`~surveymass.models.bundle.Bundle`)
    under ``prior`` (:data:`~surveymass.models.population.PRIORS`), with the
    kinematics-only posterior of the ``kinematic`` bundle when given."""
    if not fields:
        raise InputError("no cluster fields to weigh")
    if n_samples < 1:
        raise InputError(f"--samples must be at least 1, got {n_samples}")
    if prior not in PRIORS:
        raise InputError(f"unknown prior {prior!r}; choose one of {PRIORS}")
    if prior != "flat":
        bundle_mass_function_prior(bundle)  # refuse a bundle without one before the work
    observed = _observed_fields(fields, bundle, quiet)
    mags = [np.asarray(f.galaxies["mag_r"], float) for f in fields]
    n_galaxies = np.array([o.n_galaxies for o in observed])
    ra, dec, z = (np.array([getattr(f.cluster, k) for f in fields]) for k in ("ra", "dec", "z"))
    coverage = _coverage(bundle, ra, dec, z)
    table_coverage = _table_coverage(bundle, fields)
    flags = _sky_flags(bundle, z, n_galaxies, coverage, table_coverage)
    for i, (m, o, f) in enumerate(zip(mags, observed, fields)):
        if (not np.isfinite(m[o.in_aperture]).any()
                and not selection_applied(f.galaxies.meta, bundle.survey)):
            flags[i].append("no_magnitudes")
    usable = np.array([not set(f) & set(NO_MASS_FLAGS) for f in flags])

    n = len(fields)
    n_members = np.zeros(n, int)
    sigma, m_sigma = np.full(n, np.nan), np.full(n, np.nan)
    samples = np.full((n, n_samples), np.nan, dtype=np.float32)
    kinematic_samples = np.full((n, n_samples), np.nan, dtype=np.float32)
    percentiles = {name: np.full(n, np.nan) for name in typicality.SUMMARIES}
    sizes = [len(m) for m in mags]
    index, first = np.repeat(np.arange(n), sizes), np.concatenate([[0], np.cumsum(sizes)])
    p_member = np.full(len(index), np.nan)
    if usable.any():
        keep = np.flatnonzero(usable)
        observed_kept, mags_kept = [observed[i] for i in keep], [mags[i] for i in keep]
        fieldset = fields_for_bundle(bundle, observed_kept, mags_kept, z[keep], field_id=keep)
        prediction = predict(bundle, fieldset, n_samples=n_samples, seed=seed,
                             device=device, quiet=quiet)
        n_members[keep] = prediction.n_members
        sigma[keep], m_sigma[keep] = prediction.sigma, prediction.log10_m_sigma
        robust = _robustness(bundle, prior, kinematic, fieldset, prediction,
                             (observed_kept, mags_kept), n_samples, seed, device)
        samples[keep], kinematic_samples[keep] = robust.samples, robust.kinematic_samples
        for name, values in robust.percentiles.items():
            percentiles[name][keep] = values
        for i, extra in zip(keep, robust.flags):
            flags[i] += extra
        for j, i in enumerate(keep):  # each field's galaxies back to their input rows
            p_member[first[i] + observed[i].index] = prediction.p_member[
                fieldset.offsets[j]:fieldset.offsets[j + 1]]
        for i, extra in zip(keep, _range_flags(bundle, prediction.features.field)):
            flags[i] += extra
        offsets = centre_offsets(centre_velocity_uncertainty(prediction.sigma,
                                                             prediction.n_members))
        shifted = centre_offset_medians(bundle, observed_kept, mags_kept, z[keep],
                                        offsets, n_samples, seed, device)
        # no dispersion, hence no mass: flagged, never a silent NaN posterior
        weighed = (prediction.n_members >= 2) & np.isfinite(prediction.sigma)
        consistency = _consistency_flags(bundle, fieldset, prediction, shifted)
        for i, extra in zip(keep[weighed], [c for c, w in zip(consistency, weighed) if w]):
            flags[i] += extra
        no_sigma = keep[~weighed]
        for i in no_sigma:
            flags[i].append("too_few_members")
        sigma[no_sigma] = m_sigma[no_sigma] = np.nan
        samples[no_sigma] = kinematic_samples[no_sigma] = np.nan
    results = _results_table(fields, n_galaxies, n_members, usable, sigma, m_sigma, samples,
                             coverage, table_coverage, flags)
    _add_robustness_columns(results, prior, kinematic_samples, percentiles)
    galaxies = _galaxy_table(fields, index, observed, p_member)
    return InferenceResult(results, galaxies, samples, kinematic_samples)


def _percentiles(samples: np.ndarray, levels) -> np.ndarray:
    with warnings.catch_warnings():  # all-NaN rows of clusters without a mass
        warnings.simplefilter("ignore", RuntimeWarning)
        # in float64 whatever the draws' dtype, so a column's type never depends on the
        # other rows of the batch
        return np.nanpercentile(np.asarray(samples, np.float64), list(levels), axis=1)


def _add_robustness_columns(t: QTable, prior: str, kinematic_samples: np.ndarray,
                            percentiles: dict[str, np.ndarray]) -> None:
    """The prior, the kinematics-only posterior and the typicality percentiles."""
    t["prior"] = [prior] * len(t)
    t["prior"].info.description = ("prior of log10 M200c: flat over the training range, or "
                                   "the halo mass function at the cluster redshift")
    values = _percentiles(kinematic_samples, KINEMATIC_PERCENTILES.values())
    for (suffix, level), value in zip(KINEMATIC_PERCENTILES.items(), values):
        t[f"log10_m200c_kinematic_{suffix}"] = value
        t[f"log10_m200c_kinematic_{suffix}"].info.description = (
            f"kinematics-only posterior {level:g}th percentile of log10 M200c [h^-1 Msun] "
            "(phase space only, no richness or magnitudes; NaN without a companion)")
    for name, value in percentiles.items():
        t[f"typicality_{name}"] = value
        t[f"typicality_{name}"].info.description = (
            f"percentile [0-100] of the {typicality.DESCRIPTIONS[name]} among similar "
            "held-out mock fields (NaN: not computed)")


def _results_table(fields, n_galaxies, n_members, usable, sigma, m_sigma, samples, coverage,
                   table_coverage, flags) -> QTable:
    t = QTable()
    t["name"] = [f.cluster.name for f in fields]
    t["ra"] = [f.cluster.ra for f in fields] * u.deg
    t["dec"] = [f.cluster.dec for f in fields] * u.deg
    t["z"] = [f.cluster.z for f in fields]
    t["n_galaxies"] = n_galaxies
    t["n_members"] = MaskedColumn(n_members, mask=~usable)
    t["sigma_v"] = sigma * u.km / u.s
    t["log10_m200c_msigma"] = m_sigma
    values = _percentiles(samples, PERCENTILES.values())
    for suffix, value in zip(PERCENTILES, values):
        t[f"log10_m200c_{suffix}"] = value
    t["footprint_coverage"] = coverage
    t["catalogue_coverage"] = table_coverage
    t["flags"] = [",".join(f) for f in flags]
    for name, text in _DESCRIPTIONS.items():
        t[name].info.description = text
    return t


_DESCRIPTIONS = {
    "name": "cluster name", "ra": "cluster centre right ascension (ICRS)",
    "dec": "cluster centre declination (ICRS)", "z": "cluster redshift",
    "n_galaxies": "galaxies in the aperture cylinder (brighter than the survey limit)",
    "n_members": "galaxies with membership probability >= 0.5 (masked: not computed)",
    "sigma_v": "velocity dispersion of the members (bundle's estimator)",
    "log10_m200c_msigma": "log10 M200c [h^-1 Msun] from the bundle's M-sigma relation",
    **{f"log10_m200c_{k}": f"posterior {v:g}th percentile of log10 M200c [h^-1 Msun]"
       for k, v in PERCENTILES.items()},
    "footprint_coverage": "completeness-weighted fraction of the aperture inside the survey "
                          "footprint (NaN: the survey has no footprint map)",
    "catalogue_coverage": "fraction of the aperture inside the sky the galaxy table itself "
                          "covers (NaN: not known)",
    "flags": "comma-separated flags (see the table meta 'flags')",
}


def _galaxy_table(fields, index, observed: list[ObservedField], p_member) -> QTable:
    t = QTable()
    t["row"] = index  # the cluster's row in the results table
    t["cluster"] = np.array([f.cluster.name for f in fields])[index]
    for name in ("ra", "dec", "z", "mag_r"):
        t[name] = np.concatenate([np.asarray(f.galaxies[name], float) for f in fields])
    t["ra"].unit = t["dec"].unit = u.deg
    t["mag_r"].unit = u.mag
    ps = _concatenate([o.phase_space for o in observed])
    t["x"], t["y"], t["R"] = ps.x, ps.y, ps.r   # comoving h^-1 Mpc (astropy has no h unit)
    t["v_los"] = ps.v_los * u.km / u.s
    t["in_aperture"] = np.concatenate([o.in_aperture for o in observed])
    t["p_member"] = p_member
    return t


# --- writing -------------------------------------------------------------------------

def details_path(output: str | Path) -> Path:
    """The companion FITS file of a results table: ``<stem>_details.fits``."""
    output = Path(output)
    return output.with_name(f"{output.stem}_details.fits")


def _checked_output(output: str | Path) -> Path:
    output = Path(output)
    if output.suffix.lower() != ".ecsv":
        raise InputError(f"the results table is ECSV: name it *.ecsv, not {output.name}")
    return output


def write_result(result: InferenceResult, output: str | Path, record: dict,
                 overwrite: bool = False) -> tuple[Path, Path]:
    """Write the results ECSV and its ``_details.fits`` companion (GALAXIES, POSTERIOR).

    Both are written to temporaries and moved into place together, only when both are
    complete (:func:`~surveymass.outputs.staged_outputs`); existing files are replaced only
    with ``overwrite``."""
    output = _checked_output(output)
    targets = [output, details_path(output)]
    with staged_outputs(targets, overwrite) as staging:
        _write_files(result, *staging, record)
    return output, targets[1]


def _write_files(result: InferenceResult, table_path: Path, details: Path | None,
                 record: dict) -> None:
    """The results table and the details file (None: none); they share a ``run_id`` (in
    the provenance of each, and the FITS keyword RUNID)."""
    from astropy.io import fits

    record = {**record, "run_id": uuid.uuid4().hex}
    table = result.results.copy()
    table.meta.update(provenance=record,
                      flags={name: asdict(flag) for name, flag in FLAGS.items()},
                      units={"log10_m200c_*": "log10 M200c in h^-1 Msun",
                             "x, y, R (details)": "comoving h^-1 Mpc"})
    galaxies = fits.table_to_hdu(Table(result.galaxies))
    galaxies.name = "GALAXIES"
    draws = {"name": result.results["name"], "log10_m200c": result.samples}
    if result.kinematic_samples is not None:
        draws["log10_m200c_kinematic"] = result.kinematic_samples
    posterior = fits.table_to_hdu(Table(draws))
    posterior.name = "POSTERIOR"
    posterior.header["COMMENT"] = "posterior draws of log10 M200c [h^-1 Msun] per cluster"
    primary = fits.PrimaryHDU()
    primary.header["PROVENAN"] = json.dumps(record, default=str)
    primary.header["RUNID"] = (record["run_id"], "shared with the results table")
    table.write(table_path, format="ascii.ecsv")
    if details is not None:
        fits.HDUList([primary, galaxies, posterior]).writeto(details)


def card_sha256(model: str | Path) -> str:
    """SHA-256 of a bundle's model card file (recorded with every result)."""
    return file_sha256(bundle_path(model) / CARD)


def kinematic_companion(bundle, device="cpu"):
    """The kinematics-only bundle named by ``bundle``'s card (``kinematic_companion``), or
    None; it must observe fields exactly as ``bundle`` does."""
    name = bundle.info.get("kinematic_companion")
    if name is None:
        return None
    companion = load_bundle(name, device)
    if (companion.survey.to_dict() != bundle.survey.to_dict()
            or companion.aperture != bundle.aperture
            or not same_cosmology(companion.cosmology, bundle.cosmology)):
        raise InputError(f"the kinematic companion {name!r} of bundle {bundle.name!r} was "
                         "trained for another survey, aperture or cosmology")
    return companion


def check_survey(bundle, survey: str | None) -> None:
    """Refuse a bundle trained for another survey than the catalogue's (``--survey``)."""
    if survey is not None and survey != bundle.survey.name:
        raise InputError(f"the catalogue comes from survey {survey!r} but the bundle "
                         f"{bundle.name!r} was trained for {bundle.survey.name!r}: its "
                         "depth, fibres and footprint differ. Use a bundle trained for "
                         f"{survey!r} (surveymass mocks/train with that survey config)")


@dataclass
class _Inputs:
    """What a run reads before it loads its bundle: the fields of catalogue files, or, in
    catalogue mode, one cleaned survey table, its clusters and the clusters table's other
    columns (``extra``)."""

    names: list[str]
    fields: list[ClusterField] | None = None
    galaxies: Table | None = None
    clusters: list[Cluster] | None = None
    extra: Table | None = None
    cleaning: str = ""
    source: str = ""

    def fields_for(self, bundle, selected: bool) -> list[ClusterField]:
        """The fields to weigh with ``bundle`` (catalogue mode cuts them with its
        aperture), declared cut to its survey already when ``selected``."""
        fields = self.fields
        if fields is None:
            fields = catalogue_fields(self.galaxies, self.clusters, bundle.aperture,
                                      bundle.cosmology,
                                      table_footprint(self.galaxies, self.source),
                                      self.cleaning)
        return [_declared_selected(f, bundle.survey) for f in fields] if selected else fields

    def cleaning_record(self, fields: list[ClusterField]) -> dict | str:
        """What the cleaning dropped: per field, or once for catalogue mode's table."""
        if self.fields is None:
            return self.cleaning
        return {f.cluster.name: f.cleaning for f in fields}


def _read_inputs(catalogs: list[str | Path], cluster: Cluster | None,
                 clusters: str | Path | None) -> _Inputs:
    """The catalogue files' fields, or catalogue mode's survey table and clusters."""
    if clusters is None:
        fields = read_fields(catalogs, cluster)
        return _Inputs([f.cluster.name for f in fields], fields=fields)
    if len(catalogs) != 1:
        raise InputError(f"--clusters weighs every cluster from one galaxy table; got "
                         f"{len(catalogs)} catalogues")
    if cluster is not None:
        raise InputError("--clusters gives the clusters: leave out --ra/--dec/--z and --name")
    galaxies, _, cleaning = read_galaxies(catalogs[0])
    if "cluster_id" in galaxies.colnames:
        raise InputError(f"{catalogs[0]} has a cluster-id column (a batch of fields): "
                         "with --clusters give one survey table without it")
    cluster_list, extra = read_clusters(clusters)
    return _Inputs([c.name for c in cluster_list], galaxies=galaxies, clusters=cluster_list,
                   extra=extra, cleaning=cleaning, source=str(catalogs[0]))


def _declared_selected(field: ClusterField, survey) -> ClusterField:
    """``field`` with its table declared cut by ``survey`` already (header SELECTED)."""
    galaxies = field.galaxies.copy(copy_data=False)
    galaxies.meta[SELECTED_KEYWORD] = survey.name
    return replace(field, galaxies=galaxies)


def _carry_columns(results: QTable, extra: Table) -> None:
    """The clusters table's other columns, appended to the results (same rows, same
    order); a name the results use already gets the prefix ``input_``."""
    for name in extra.colnames:
        results[name if name not in results.colnames else f"input_{name}"] = extra[name]


def run_infer(catalogs: list[str | Path], model: str | Path | None = None,
              output: str | Path = DEFAULT_OUTPUT, n_samples: int = 1000, seed: int = 0,
              device: str = "auto", cluster: Cluster | None = None,
              survey: str | None = None, plots: str | Path | None = None,
              quiet: bool = True, overwrite: bool = False,
              prior: str = "flat", clusters: str | Path | None = None,
              selected: bool = False, details: bool = True) -> InferenceResult:
    """Read ``catalogs``, weigh their clusters with bundle ``model`` (default: the shipped
    one), write the results table and details file, and optionally the plots (one PNG per
    cluster in folder ``plots``).

    ``clusters``: catalogue mode (:mod:`surveymass.inference.catalogue`): ``catalogs`` is
    one galaxy table and every cluster of this table is weighed from it (one results row
    each, in its order, its other columns carried through). ``selected``: the galaxy table
    holds exactly the galaxies the bundle's survey selects (e.g. a volume-limited sample
    without magnitudes), so its depth is not applied again. ``details``: write the
    per-galaxy and posterior-draw file (off for large catalogues that need only the table).

    Every output is checked before the work; existing ones are replaced only with
    ``overwrite``, and only once all the new files are complete, all together."""
    output = _checked_output(output)
    inputs = _read_inputs(catalogs, cluster, clusters)
    targets = [output, details_path(output)] if details else [output]
    if plots is not None:
        targets += plot_paths(inputs.names, plots)
    check_outputs(targets, overwrite)
    model = model or DEFAULT_BUNDLE
    torch_device = resolve_device(device)
    bundle = load_bundle(model, torch_device)
    check_survey(bundle, survey)
    fields = inputs.fields_for(bundle, selected)
    kinematic = kinematic_companion(bundle, torch_device)
    result = infer_fields(fields, bundle, n_samples, seed, torch_device, quiet, prior,
                          kinematic)
    if inputs.extra is not None:
        _carry_columns(result.results, inputs.extra)
    record = provenance(model={"name": bundle.name, "path": str(model),
                               "card_sha256": card_sha256(model),
                               "kinematic_companion": None if kinematic is None
                               else kinematic.name},
                        prior=prior,
                        inputs=[str(p) for p in catalogs],
                        clusters=None if clusters is None else str(clusters),
                        selected=selected,
                        cleaning=inputs.cleaning_record(fields),
                        seed=seed, n_samples=n_samples,
                        device=str(torch_device),
                        cluster=None if cluster is None else cluster.__dict__)
    with staged_outputs(targets, overwrite) as staging:
        plot_targets = staging[2:] if details else staging[1:]
        _write_files(result, staging[0], staging[1] if details else None, record)
        if plots is not None:
            plot_clusters(result, bundle, plot_targets, quiet=quiet)
    return result
