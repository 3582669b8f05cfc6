"""The validation checks of a simulated universe against published statistics.

Each check takes a :class:`~surveymass.universe.store.Universe` (in memory) or a
:class:`~surveymass.universe.store.UniverseFile` (read in chunks, bounded memory) and returns
a :class:`CheckResult`: its numbers, a table for the report and plots, and whether the
universe passes within the tolerance set in :mod:`.references`. The line of sight, where one
is needed, is the box's z axis (distant observer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from surveymass.cosmology import DEFAULT_NS, DEFAULT_SIGMA8, colossus_cosmology
from surveymass.errors import InputError
from surveymass.halo import evrard2008, nfw_mass_in_definition, nfw_radius_ratio, v200c
from surveymass.phasespace import Aperture, PhaseSpace
from surveymass.photometry import schechter_magnitudes
from surveymass.progress import progress_bar
from surveymass.universe.check import references as ref
from surveymass.universe.check.pairs import minimum_image, neighbour_pairs, projected_correlation
from surveymass.universe.store import Universe, UniverseFile

Source = Universe | UniverseFile

PASS, FALL_SHORT, NOT_JUDGED, COMPARED = "pass", "fall-short", "not judged", "compared"
_CHUNK = 1 << 20


@dataclass
class CheckResult:
    """Outcome of one check. ``table``: equal-length columns for the report and the plot."""

    name: str
    title: str
    status: str
    summary: str
    reference: str
    tolerance: str
    numbers: dict = field(default_factory=dict)
    table: dict = field(default_factory=dict)
    shortfalls: list[str] = field(default_factory=list)
    limitations: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        table = {k: np.asarray(v).tolist() for k, v in self.table.items()}
        return dict(name=self.name, title=self.title, status=self.status,
                    summary=self.summary, reference=self.reference, tolerance=self.tolerance,
                    numbers=self.numbers, table=table, shortfalls=self.shortfalls,
                    limitations=self.limitations)


# --- reading ------------------------------------------------------------------------------

def iter_columns(source: Source, table: str, columns: list[str],
                 chunk_size: int | None = None) -> Iterator[dict[str, np.ndarray]]:
    """Chunks (default ``_CHUNK`` rows) of the named columns of ``"halos"`` or
    ``"galaxies"`` from either source."""
    chunk_size = chunk_size or _CHUNK
    if isinstance(source, UniverseFile):
        yield from source.iter_chunks(table, columns, chunk_size)
        return
    data = getattr(source, table)
    n = len(data[columns[0]])
    for start in range(0, n, chunk_size):
        yield {c: np.asarray(data[c][start:start + chunk_size]) for c in columns}


def select(source: Source, table: str, columns: list[str],
           where: Callable[[dict], np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """The rows of a table for which ``where(chunk)`` is true, read chunk by chunk."""
    parts: dict[str, list] = {c: [] for c in columns}
    for chunk in iter_columns(source, table, columns):
        mask = where(chunk) if where is not None else slice(None)
        for c in columns:
            parts[c].append(chunk[c][mask])
    return {c: np.concatenate(v) if v else np.empty(0) for c, v in parts.items()}


def positions(rows: dict[str, np.ndarray]) -> np.ndarray:
    """(N, 3) float64 comoving positions [h^-1 Mpc] from x, y, z columns."""
    return np.column_stack([rows["x"], rows["y"], rows["z"]]).astype(float)


def velocities(rows: dict[str, np.ndarray]) -> np.ndarray:
    """(N, 3) float64 peculiar velocities [km/s] from vx, vy, vz columns."""
    return np.column_stack([rows["vx"], rows["vy"], rows["vz"]]).astype(float)


def hubble_per_comoving(source: Source) -> float:
    """H(z) a in km/s per comoving h^-1 Mpc: 100 E(z) / (1 + z)."""
    return 100.0 * float(source.cosmology.efunc(source.redshift)) / (1.0 + source.redshift)


def colossus_for(source: Source):
    """The colossus cosmology of the universe (sigma_8, n_s from its config when recorded)."""
    config = source.config or {}
    return colossus_cosmology(source.cosmology, sigma8=config.get("sigma8", DEFAULT_SIGMA8),
                              ns=config.get("ns", DEFAULT_NS))


def _ratio_verdicts(n_sim: np.ndarray, n_ref: np.ndarray, judged: np.ndarray,
                    tolerance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio, its Poisson sigma, and failure flags (off by > tolerance + 2 sigma) per bin."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(n_ref > 0, n_sim / n_ref, np.nan)
        sigma = np.where(n_ref > 0, np.sqrt(np.maximum(n_ref, 1.0)) / n_ref, np.nan)
    fails = judged & ~(np.abs(ratio - 1.0) <= tolerance + 2.0 * sigma)
    return ratio, sigma, fails


# --- halo mass function -------------------------------------------------------------------

def tinker_counts(source: Source, edges_log10: np.ndarray) -> np.ndarray:
    """Expected halo counts per log10 M200c bin in the box, from Tinker et al. (2008)."""
    from colossus.lss import mass_function

    colossus_for(source)
    ln_m = np.linspace(edges_log10[:-1], edges_log10[1:], 9) * np.log(10.0)  # (9, n_bins)
    dn = mass_function.massFunction(np.exp(ln_m).ravel(), source.redshift, mdef=ref.HMF_MDEF,
                                    model=ref.HMF_MODEL, q_out="dndlnM").reshape(ln_m.shape)
    return np.trapezoid(dn, ln_m, axis=0) * source.box_size ** 3


def check_mass_function(source: Source, bin_dex: float = ref.HMF_BIN_DEX,
                        min_count: int = ref.HMF_MIN_COUNT,
                        tolerance: float = ref.HMF_TOLERANCE) -> CheckResult:
    """Halo counts per log10 M200c bin against Tinker et al. (2008), judged where N > min_count."""
    lo, hi = np.inf, -np.inf
    for chunk in iter_columns(source, "halos", ["m200c"]):
        if len(chunk["m200c"]):
            lo, hi = min(lo, chunk["m200c"].min()), max(hi, chunk["m200c"].max())
    if not (0 < lo <= hi < np.inf):
        raise InputError("the universe holds no halos with positive m200c; check that the "
                         "halo table is filled and m200c is in h^-1 Msun")
    # Bins start at the lightest halo, so that a mass cut of the catalogue falls on an edge.
    edges = np.log10(lo) + bin_dex * np.arange(int((np.log10(hi) - np.log10(lo)) / bin_dex) + 2)
    n_sim = np.zeros(len(edges) - 1)
    for chunk in iter_columns(source, "halos", ["m200c"]):
        n_sim += np.histogram(np.log10(chunk["m200c"]), bins=edges)[0]
    n_ref = tinker_counts(source, edges)
    judged = n_sim > min_count
    ratio, sigma, fails = _ratio_verdicts(n_sim, n_ref, judged, tolerance)
    centres = 0.5 * (edges[:-1] + edges[1:])
    result = CheckResult(
        name="mass_function", title="Halo mass function (M200c)",
        status=_status(judged, fails), summary="",
        reference="Tinker et al. 2008, ApJ 688, 709 (colossus 'tinker08', mdef 200c)",
        tolerance=f"|N/N_Tinker - 1| < {tolerance:.0%} (+2 Poisson sigma) in bins of "
                  f"{bin_dex} dex holding > {min_count} halos",
        numbers=dict(n_judged_bins=int(judged.sum()), n_failed_bins=int(fails.sum()),
                     max_abs_deviation=_max_abs(ratio[judged] - 1),
                     judged_range_log10_m200c=_judged_range(edges, judged)),
        table=dict(log10_m200c=centres, n_sim=n_sim, n_tinker=n_ref, ratio=ratio,
                   poisson_sigma=sigma, judged=judged, failed=fails))
    result.summary = _ratio_summary(result, "bins")
    result.shortfalls = [f"halo mass function off by {ratio[k] - 1:+.1%} at log10 M200c = "
                         f"{centres[k]:.2f} ({int(n_sim[k])} halos)" for k in np.flatnonzero(fails)]
    return result


# --- luminosity function ------------------------------------------------------------------

def blanton03_lf(mag: np.ndarray) -> np.ndarray:
    """The Blanton et al. (2003) r-band luminosity function per magnitude [h^3 Mpc^-3
    mag^-1] (:func:`surveymass.photometry.schechter_magnitudes` with their parameters)."""
    return schechter_magnitudes(mag, ref.BLANTON03_PHI_STAR, ref.BLANTON03_M_STAR,
                                ref.BLANTON03_ALPHA)


def check_luminosity_function(source: Source, bin_mag: float = ref.LF_BIN_MAG,
                              mag_range: tuple[float, float] = ref.LF_RANGE,
                              tolerance: float = ref.LF_TOLERANCE) -> CheckResult:
    """Galaxy counts per M_r - 5 log h bin against the Blanton et al. (2003) Schechter fit."""
    edges = np.round(np.arange(-24.0, -14.0 + bin_mag / 2, bin_mag), 6)
    n_sim = np.zeros(len(edges) - 1)
    for chunk in iter_columns(source, "galaxies", ["mag_r"]):
        n_sim += np.histogram(chunk["mag_r"], bins=edges)[0]
    volume = source.box_size ** 3
    grid = np.linspace(edges[:-1], edges[1:], 9)  # (9, n_bins)
    n_ref = np.trapezoid(blanton03_lf(grid), grid, axis=0) * volume
    judged = (edges[:-1] >= mag_range[0] - 1e-9) & (edges[1:] <= mag_range[1] + 1e-9)
    ratio, sigma, fails = _ratio_verdicts(n_sim, n_ref, judged, tolerance)
    centres = 0.5 * (edges[:-1] + edges[1:])
    result = CheckResult(
        name="luminosity_function", title="r-band luminosity function",
        status=_status(judged, fails), summary="",
        reference="Blanton et al. 2003, ApJ 592, 819: Schechter phi* = 1.49e-2 h^3 Mpc^-3, "
                  "M* - 5 log h = -20.44, alpha = -1.05 (^{0.1}r band)",
        tolerance=f"|phi/phi_Blanton - 1| < {tolerance:.0%} (+2 Poisson sigma) in "
                  f"{bin_mag}-mag bins for {mag_range[0]} < M_r - 5 log h < {mag_range[1]}",
        numbers=dict(n_judged_bins=int(judged.sum()), n_failed_bins=int(fails.sum()),
                     max_abs_deviation=_max_abs(ratio[judged] - 1)),
        table=dict(mag_r=centres, phi_sim=n_sim / volume / bin_mag,
                   phi_blanton=n_ref / volume / bin_mag, n_sim=n_sim, ratio=ratio,
                   poisson_sigma=sigma, judged=judged, failed=fails))
    result.summary = _ratio_summary(result, "bins")
    result.shortfalls = [f"luminosity function off by {ratio[k] - 1:+.1%} at M_r - 5 log h = "
                         f"{centres[k]:.2f}" for k in np.flatnonzero(fails)]
    return result


# --- projected correlation function -------------------------------------------------------

#: r_p bins of Zehavi et al. (2011): 0.2 dex wide, centred on 0.17 ... 17 h^-1 Mpc.
WP_EDGES = 10.0 ** (-0.87 + 0.2 * np.arange(12))


def redshift_space_positions(rows: dict[str, np.ndarray], source: Source) -> np.ndarray:
    """Positions with the line-of-sight (z) coordinate displaced by v_z / (a H) [h^-1 Mpc]."""
    pos = positions(rows)
    pos[:, 2] = np.mod(pos[:, 2] + rows["vz"] / hubble_per_comoving(source), source.box_size)
    return pos


def wp_subsample_size(n_total: int, box_size: float, pi_max: float, max_galaxies: int,
                      max_pairs: float) -> int:
    """Galaxies to keep so that the pair search visits about ``max_pairs`` pairs at most.

    Pairs are searched in a box of (2 r_p,max)^2 x 2 pi_max around each galaxy, so N galaxies
    visit about N^2 / 2 x that volume / L^3 pairs in an unclustered box.
    """
    search_volume = (2.0 * WP_EDGES[-1]) ** 2 * 2.0 * pi_max
    by_pairs = int(np.sqrt(2.0 * max_pairs * box_size ** 3 / search_volume))
    return min(n_total, max_galaxies, by_pairs)


def check_projected_correlation(source: Source, thresholds: tuple[float, ...] = (-20.0, -21.0),
                                max_galaxies: int = 300_000, max_pairs: float = 1e7,
                                pi_max: float = ref.ZEHAVI11_PI_MAX,
                                tolerance: float = ref.WP_TOLERANCE, seed: int = 0) -> CheckResult:
    """w_p(r_p) of luminosity-threshold samples against Zehavi et al. (2011), 0.3-20 h^-1 Mpc.

    Redshift-space positions along z. Each sample is a uniform random subsample (which
    leaves w_p unbiased) of at most ``max_galaxies`` galaxies and small enough that the pair
    search visits about ``max_pairs`` pairs (run time grows with the pairs).
    """
    result = CheckResult(
        name="projected_correlation", title="Projected correlation function w_p(r_p)",
        status=NOT_JUDGED, summary="",
        reference="Zehavi et al. 2011, ApJ 736, 59: measured w_p of the M_r - 5 log h < -20 and "
                  "< -21 samples (power-law fits of their Table 2: r0 = 5.59, gamma = 1.84 and "
                  f"r0 = 6.42, gamma = 1.90); pi_max = {pi_max:g} h^-1 Mpc",
        tolerance=f"|w_p/w_p,Zehavi - 1| < {tolerance:.0%} for {ref.WP_RANGE[0]} < r_p < "
                  f"{ref.WP_RANGE[1]} h^-1 Mpc")
    needed = 2.0 * max(pi_max, WP_EDGES[-1])
    if source.box_size < needed:
        result.summary = (f"box of {source.box_size:g} h^-1 Mpc is smaller than "
                          f"{needed:g} h^-1 Mpc (2 pi_max); w_p not measured")
        result.limitations.append(result.summary)
        return result
    rng = np.random.default_rng(seed)
    centres = np.sqrt(WP_EDGES[:-1] * WP_EDGES[1:])
    judged = (centres > ref.WP_RANGE[0]) & (centres < ref.WP_RANGE[1])
    columns: dict[str, np.ndarray] = {"r_p": centres, "judged": judged}
    fails_any, worst = False, []
    for threshold in thresholds:
        rows = select(source, "galaxies", ["x", "y", "z", "vz", "mag_r"],
                      lambda c, t=threshold: c["mag_r"] < t)
        n_total = len(rows["x"])
        key = f"{threshold:g}"
        result.numbers[f"n_galaxies_{key}"] = n_total
        result.numbers[f"density_{key}"] = n_total / source.box_size ** 3
        if n_total < 100:
            result.shortfalls.append(f"only {n_total} galaxies brighter than {threshold}; "
                                     "w_p not measured")
            fails_any = True
            continue
        n_use = wp_subsample_size(n_total, source.box_size, pi_max, max_galaxies, max_pairs)
        pick = np.sort(rng.choice(n_total, n_use, replace=False))
        result.numbers[f"n_used_{key}"] = len(pick)
        pos = redshift_space_positions({k: v[pick] for k, v in rows.items()}, source)
        wp, wp_err = projected_correlation(pos, source.box_size, WP_EDGES, pi_max)
        wp_ref = np.interp(np.log(centres), np.log(ref.ZEHAVI11_RP),
                           ref.ZEHAVI11_WP[threshold])
        ratio = wp / wp_ref
        fails = judged & ~(np.abs(ratio - 1) <= tolerance)
        columns.update({f"wp_{key}": wp, f"wp_err_{key}": wp_err, f"wp_zehavi_{key}": wp_ref,
                        f"ratio_{key}": ratio, f"failed_{key}": fails})
        result.numbers[f"max_abs_deviation_{key}"] = _max_abs(ratio[judged] - 1)
        worst.append(f"M_r<{threshold:g}: max |dev| {_max_abs(ratio[judged] - 1):.1%}")
        fails_any |= bool(fails.any())
        result.shortfalls += [f"w_p(M_r < {threshold:g}) off by {ratio[k] - 1:+.1%} at r_p = "
                              f"{centres[k]:.2f} h^-1 Mpc" for k in np.flatnonzero(fails)]
    result.table = columns
    result.status = FALL_SHORT if fails_any else PASS
    result.summary = "; ".join(worst) or "no sample measured"
    if any(result.numbers.get(f"n_used_{t:g}", 0) < result.numbers.get(f"n_galaxies_{t:g}", 0)
           for t in thresholds):
        used = ", ".join(f"{result.numbers.get(f'n_used_{t:g}', 0)} of "
                         f"{result.numbers[f'n_galaxies_{t:g}']}" for t in thresholds)
        result.limitations.append(f"w_p measured on random subsamples ({used} galaxies; "
                                  "unbiased, noisier)")
    result.limitations.append("w_p compared with the SDSS measurement without its errors; "
                              "one line of sight, no cosmic-variance allowance")
    return result


# --- satellite velocity dispersion --------------------------------------------------------

def evrard_sigma(m200c: np.ndarray, redshift: float, cosmology) -> np.ndarray:
    """1-D dark-matter velocity dispersion [km/s] of Evrard et al. (2008) for M200c [h^-1 Msun].

    The relation is :func:`surveymass.halo.evrard2008` (one source of truth).
    """
    with np.errstate(divide="ignore", invalid="ignore"):  # M <= 0 -> sigma 0 or NaN
        log10_m = np.log10(np.asarray(m200c, float))
    return 10.0 ** evrard2008().log10_sigma(log10_m, redshift, cosmology)


def _hosts_lookup(halo_ids: np.ndarray, host_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each host id: whether it is among ``halo_ids`` and its index there."""
    order = np.argsort(halo_ids)
    pos = np.clip(np.searchsorted(halo_ids, host_ids, sorter=order), 0, len(halo_ids) - 1)
    index = order[pos]
    return halo_ids[index] == host_ids, index


def check_velocity_dispersion(source: Source, min_log10_mass: float = ref.SIGMA_MIN_LOG10_MASS,
                              bin_dex: float = 0.25, tolerance: float = ref.SIGMA_TOLERANCE
                              ) -> CheckResult:
    """Normalisation of the satellites' 1-D velocity dispersion against Evrard et al. (2008).

    sigma_1D^2 = |v_sat - v_halo|^2 / 3 pooled over satellites; the normalisation is
    sqrt(<sigma_1D^2 / sigma_Evrard(M_host)^2>), 1 for a universe on the relation.
    """
    halos = select(source, "halos", ["halo_id", "m200c", "vx", "vy", "vz"],
                   lambda c: c["m200c"] >= 10 ** min_log10_mass)
    result = CheckResult(
        name="velocity_dispersion", title="Satellite velocity dispersion vs M200c",
        status=NOT_JUDGED, summary="",
        reference="Evrard et al. 2008, ApJ 672, 122: sigma = 1082.9 km/s "
                  "(h(z) M200c / 1e15 Msun)^0.3361",
        tolerance=f"fitted normalisation within {tolerance:.0%} of 1 "
                  f"(halos above 10^{min_log10_mass} h^-1 Msun)")
    if len(halos["halo_id"]) == 0:
        result.summary = f"no halos above 10^{min_log10_mass} h^-1 Msun; not judged"
        result.limitations.append(result.summary)
        return result
    host_v = velocities(halos)
    sum_dv2 = np.zeros(len(halos["halo_id"]))
    n_sat = np.zeros_like(sum_dv2)
    for chunk in iter_columns(source, "galaxies", ["host_id", "is_central", "vx", "vy", "vz"]):
        found, index = _hosts_lookup(halos["halo_id"], chunk["host_id"])
        keep = found & ~chunk["is_central"].astype(bool)
        index = index[keep]
        dv2 = np.sum((velocities(chunk)[keep] - host_v[index]) ** 2, axis=1) / 3.0
        np.add.at(sum_dv2, index, dv2)
        np.add.at(n_sat, index, 1.0)
    if n_sat.sum() < 10:
        result.summary = f"only {int(n_sat.sum())} satellites of halos above " \
                         f"10^{min_log10_mass}; not judged"
        result.limitations.append(result.summary)
        return result
    sigma_e = evrard_sigma(halos["m200c"], source.redshift, source.cosmology)
    sum_q = sum_dv2 / sigma_e ** 2
    norm = float(np.sqrt(sum_q.sum() / n_sat.sum()))
    log_m = np.log10(halos["m200c"])
    edges = np.arange(min_log10_mass, log_m.max() + bin_dex, bin_dex)
    k = np.digitize(log_m, edges) - 1
    n_bin = np.bincount(k, n_sat, len(edges) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma_bin = np.sqrt(np.bincount(k, sum_dv2, len(edges) - 1) / n_bin)
        norm_bin = np.sqrt(np.bincount(k, sum_q, len(edges) - 1) / n_bin)
    # Pooled-weighted mean host mass per bin, for plotting the Evrard line beside the points.
    m_bin = np.bincount(k, n_sat * halos["m200c"], len(edges) - 1) / np.maximum(n_bin, 1)
    failed = abs(norm - 1.0) > tolerance
    result.status = FALL_SHORT if failed else PASS
    result.numbers = dict(normalisation=norm, n_satellites=int(n_sat.sum()),
                          n_halos=int(np.count_nonzero(n_sat)),
                          # Delta v^2 / 3 per satellite has variance 2/3 sigma^4 (3 Gaussian
                          # components), so sqrt(<q>) has error 1 / sqrt(6 N).
                          normalisation_error=float(norm / np.sqrt(6.0 * n_sat.sum())))
    result.summary = f"normalisation {norm:.3f} ({int(n_sat.sum())} satellites in " \
                     f"{int(np.count_nonzero(n_sat))} halos)"
    result.table = dict(log10_m200c=0.5 * (edges[:-1] + edges[1:]), n_satellites=n_bin,
                        mean_m200c=m_bin, sigma_1d=sigma_bin,
                        sigma_evrard=evrard_sigma(m_bin, source.redshift, source.cosmology),
                        normalisation=norm_bin)
    if failed:
        result.shortfalls.append(f"satellite velocity dispersions are {norm - 1:+.1%} off the "
                                 "Evrard et al. (2008) relation")
    result.limitations.append("Evrard et al. (2008) is the dark-matter dispersion; satellites "
                              "are assumed unbiased tracers (no velocity bias allowed)")
    return result


# --- radial velocity profile --------------------------------------------------------------

def falco_profile(x_vir: np.ndarray, a: float = ref.FALCO14_A,
                  b: float = ref.FALCO14_B) -> np.ndarray:
    """Falco et al. (2014) mean peculiar radial velocity in units of V_vir at r / R_vir."""
    return -a * np.asarray(x_vir, float) ** (-b)


def _virial_ratios(m200c: np.ndarray, concentration: np.ndarray, redshift: float,
                   source: Source) -> tuple[float, float]:
    """Median R_vir / R200c and V_vir / V200c of the halos (NFW,
    :func:`surveymass.halo.nfw_radius_ratio`)."""
    colossus_for(source)
    r_ratio = nfw_radius_ratio(concentration, redshift, "200c", "vir")
    v_ratio = np.sqrt(nfw_mass_in_definition(m200c, concentration, redshift, "200c", "vir")
                      / m200c / r_ratio)
    return float(np.median(r_ratio)), float(np.median(v_ratio))


def stacked_radial_velocity(source: Source, halos: dict[str, np.ndarray], max_radius: float,
                            n_bins: int, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Per halo and radial bin (of r / R200c in [0, max_radius)): the number of galaxies and
    the sum of their peculiar radial velocities relative to the halo, in units of V200c."""
    r200 = halos["r200c"].astype(float)
    vc = v200c(halos["m200c"], r200, source.redshift)
    centre, centre_v = positions(halos), velocities(halos)
    counts = np.zeros((len(r200), n_bins))
    v_sums = np.zeros_like(counts)
    n_gal = source.count("galaxies") if isinstance(source, UniverseFile) else source.n_galaxies
    chunks = iter_columns(source, "galaxies", ["x", "y", "z", "vx", "vy", "vz"])
    for chunk in progress_bar(chunks, total=-(-n_gal // _CHUNK), desc="radial velocity profile",
                              quiet=not progress, leave=False):
        gal = positions(chunk)
        i, j = neighbour_pairs(centre, gal, source.box_size, max_radius * r200.max())
        delta = minimum_image(gal[j] - centre[i], source.box_size)
        r = np.linalg.norm(delta, axis=1)
        keep = (r < max_radius * r200[i]) & (r > 0)
        i, j, delta, r = i[keep], j[keep], delta[keep], r[keep]
        v_r = np.einsum("ij,ij->i", velocities(chunk)[j] - centre_v[i], delta) / r / vc[i]
        k = np.minimum((r / r200[i] / max_radius * n_bins).astype(int), n_bins - 1)
        np.add.at(counts, (i, k), 1.0)
        np.add.at(v_sums, (i, k), v_r)
    return counts, v_sums


def fit_falco_amplitude(x_vir: np.ndarray, mean_v: np.ndarray, v_ratio: float) -> float:
    """Least-squares amplitude a of -a (V_vir/V200c) (r/R_vir)^-b through mean peculiar
    radial velocities [V200c] at r / R_vir = ``x_vir`` (slope b of Falco et al. 2014)."""
    shape = v_ratio * falco_profile(x_vir, a=1.0)
    return float(np.sum(mean_v * shape) / np.sum(shape ** 2))


def check_radial_velocity(source: Source, min_log10_mass: float = ref.PROFILE_MIN_LOG10_MASS,
                          max_radius: float = ref.PROFILE_MAX_RADIUS_R200C, n_bins: int = 25,
                          max_halos: int = 2000, n_bootstrap: int = 200, seed: int = 0,
                          progress: bool = False) -> CheckResult:
    """Stacked mean radial velocity of galaxies around halos above 10^min_log10_mass.

    Velocities relative to the halo, with the Hubble flow, in units of V200c, against the
    Falco et al. (2014) N-body profile; the amplitude ``a`` of its peculiar part is fitted
    (slope fixed) over 3-8 R_vir and judged against the published a = 0.8 +/- 0.2. Errors
    come from ``n_bootstrap`` resamplings of the halos.
    """
    halos = select(source, "halos", ["halo_id", "m200c", "r200c", "concentration", "x", "y",
                                     "z", "vx", "vy", "vz"],
                   lambda c: c["m200c"] >= 10 ** min_log10_mass)
    result = CheckResult(
        name="radial_velocity", title="Mean radial velocity profile around clusters",
        status=NOT_JUDGED, summary="",
        reference="Falco et al. 2014, MNRAS 442, 1887: v_r = H r - a V_vir (r/R_vir)^-b, "
                  "a = 0.8 +/- 0.2, b = 0.42 (N-body, 3-8 R_vir)",
        tolerance=f"fitted a within {ref.FALCO14_A} +/- {ref.FALCO14_A_ERR} over "
                  f"{ref.FALCO14_RANGE_RVIR[0]}-{ref.FALCO14_RANGE_RVIR[1]} R_vir")
    n_halos = len(halos["halo_id"])
    if n_halos == 0:
        result.summary = f"no halos above 10^{min_log10_mass} h^-1 Msun; not judged"
        result.limitations.append(result.summary)
        return result
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(n_halos, min(n_halos, max_halos), replace=False))
    halos = {k: v[pick] for k, v in halos.items()}
    counts, v_sums = stacked_radial_velocity(source, halos, max_radius, n_bins, progress)
    resamples = rng.integers(0, len(pick), (n_bootstrap, len(pick)))
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_v = v_sums.sum(0) / counts.sum(0)
        boot_v = v_sums[resamples].sum(1) / counts[resamples].sum(1)
        err = np.std(boot_v, axis=0)  # NaN where a resampling leaves a bin empty
    x_mid = (np.arange(n_bins) + 0.5) * max_radius / n_bins
    hubble = x_mid / 10.0  # H r / V200c = r / (10 R200c) for a 200c halo (V200c = 10 H R200c)
    r_ratio, v_ratio = _virial_ratios(halos["m200c"], halos["concentration"].astype(float),
                                      source.redshift, source)
    x_vir = x_mid / r_ratio
    lo, hi = ref.FALCO14_RANGE_RVIR
    fitted = (x_vir >= lo) & (x_vir <= hi) & np.all(np.isfinite(boot_v), axis=0)
    model = np.where(x_vir >= lo, v_ratio * falco_profile(x_vir), np.nan)
    result.table = dict(r_over_r200c=x_mid, n_pairs=counts.sum(0), v_r_total=mean_v + hubble,
                        v_r_peculiar=mean_v, v_r_error=err, falco_total=model + hubble,
                        falco_peculiar=model, fitted=fitted)
    result.numbers = dict(n_halos=len(pick), n_halos_available=n_halos,
                          r_vir_over_r200c=r_ratio, v_vir_over_v200c=v_ratio)
    if fitted.sum() < 2:
        result.summary = f"fewer than 2 radial bins with galaxies in {lo}-{hi} R_vir; not judged"
        result.limitations.append(result.summary)
        return result
    a_fit = fit_falco_amplitude(x_vir[fitted], mean_v[fitted], v_ratio)
    a_err = float(np.std([fit_falco_amplitude(x_vir[fitted], b[fitted], v_ratio)
                          for b in boot_v]))
    failed = abs(a_fit - ref.FALCO14_A) > ref.FALCO14_A_ERR
    result.status = FALL_SHORT if failed else PASS
    result.numbers.update(a_fit=a_fit, a_fit_error=a_err,
                          min_v_r_total=float(np.nanmin(mean_v + hubble)))
    result.summary = f"infall amplitude a = {a_fit:.2f} +/- {a_err:.2f} (Falco: 0.8 +/- 0.2) " \
                     f"from {len(pick)} halos"
    if failed:
        result.shortfalls.append(f"infall around clusters has amplitude a = {a_fit:.2f}, outside "
                                 "Falco et al. (2014) 0.8 +/- 0.2")
    result.limitations.append("Falco et al. (2014) measured dark matter, not galaxies; R_vir and "
                              "V_vir from colossus (Bryan & Norman) at the median concentration")
    if len(pick) < n_halos:
        result.limitations.append(f"radial profile stacked over a random {len(pick)} of the "
                                  f"{n_halos} halos above 10^{min_log10_mass}")
    return result


# --- interloper fraction ------------------------------------------------------------------

def cylinder_counts(source: Source, halos: dict[str, np.ndarray], aperture: Aperture,
                    mag_limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Galaxies brighter than ``mag_limit`` in each halo's cylinder, and how many are interlopers.

    The cylinder is ``aperture.contains`` of the phase space about each halo: projected
    radius in the x-y plane [h^-1 Mpc] and v_los = v_z,gal - v_z,halo + H(z) a dz [km/s]
    (line of sight z).
    Interlopers are galaxies whose host is not the target halo (neighbouring centrals too).
    """
    centre_xy = positions(halos)[:, :2]
    n_in = np.zeros(len(centre_xy))
    n_int = np.zeros(len(centre_xy))
    hubble = hubble_per_comoving(source)
    for chunk in iter_columns(source, "galaxies", ["host_id", "x", "y", "z", "vz", "mag_r"]):
        bright = chunk["mag_r"] < mag_limit
        gal = {k: v[bright] for k, v in chunk.items()}
        gal_xy = positions(gal)[:, :2]
        i, j = neighbour_pairs(centre_xy, gal_xy, source.box_size, aperture.r_max)
        dx, dy = minimum_image(gal_xy[j] - centre_xy[i], source.box_size).T
        dz = minimum_image(gal["z"][j] - halos["z"][i], source.box_size)
        v_los = gal["vz"][j] - halos["vz"][i] + hubble * dz
        inside = aperture.contains(PhaseSpace(x=dx, y=dy, r=np.hypot(dx, dy), v_los=v_los))
        i, j = i[inside], j[inside]
        n_in += np.bincount(i, minlength=len(n_in))
        n_int += np.bincount(i, gal["host_id"][j] != halos["halo_id"][i], len(n_in))
    return n_in, n_int


def check_interloper_fraction(source: Source, aperture: Aperture | None = None,
                              mag_limit: float = ref.INTERLOPER_MAG_LIMIT,
                              mass_edges: tuple[float, ...] = ref.INTERLOPER_MASS_EDGES,
                              max_halos_per_bin: int = 500, seed: int = 0) -> CheckResult:
    """Interloper fraction of cylinder mocks vs host M200c, beside the Deep Sets paper's values.

    Pooled over the clusters of each mass bin that hold at least ``aperture.min_galaxies``
    galaxies; no pass/fail (the paper's sample differs: z = 0.5, stellar-mass cut).
    """
    aperture = aperture or Aperture()
    halos = select(source, "halos", ["halo_id", "m200c", "x", "y", "z", "vz"],
                   lambda c: c["m200c"] >= 10 ** mass_edges[0])
    rng = np.random.default_rng(seed)
    log_m = np.log10(np.maximum(halos["m200c"], 1.0))
    k = np.digitize(log_m, mass_edges) - 1
    picks = [rng.permutation(np.flatnonzero(k == b))[:max_halos_per_bin]
             for b in range(len(mass_edges) - 1)]
    pick = np.sort(np.concatenate(picks)).astype(int)
    halos = {c: v[pick] for c, v in halos.items()}
    n_in, n_int = cylinder_counts(source, halos, aperture, mag_limit)
    usable = n_in >= aperture.min_galaxies
    k = k[pick]
    n_bins = len(mass_edges) - 1
    n_clusters = np.bincount(k[usable], minlength=n_bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = np.bincount(k[usable], n_int[usable], n_bins) / \
            np.bincount(k[usable], n_in[usable], n_bins)
        per_cluster = n_int / n_in
    median = np.array([np.median(per_cluster[usable & (k == b)]) if n_clusters[b] else np.nan
                       for b in range(n_bins)])
    deepsets = ref.deepsets_interloper_fractions()
    result = CheckResult(
        name="interloper_fraction", title="Interloper fraction in cylinders vs host mass",
        status=COMPARED, summary="",
        reference="Deep Sets paper (shared/papers, Uchuu-UM z = 0.5): ~84% interlopers around "
                  "10^13.5 h^-1 Msun; Table 1 implies " +
                  ", ".join(f"{c:.2f}/{m:.2f}" for c, m in deepsets) +
                  " (caustic/ML rows, ascending mass; bin edges lost in extraction)",
        tolerance="compared, not judged (different redshift and galaxy selection)",
        numbers=dict(mag_limit=mag_limit, r_max=aperture.r_max, v_max=aperture.v_max,
                     min_galaxies=aperture.min_galaxies,
                     n_clusters_total=int(usable.sum()),
                     deepsets_around_13_5=ref.DEEPSETS_INTERLOPER_AROUND_13_5,
                     deepsets_table1_implied=[list(p) for p in deepsets]),
        table=dict(log10_m200c_lo=np.array(mass_edges[:-1]),
                   log10_m200c_hi=np.array(mass_edges[1:]), n_clusters=n_clusters,
                   interloper_fraction=pooled, median_cluster_fraction=median))
    filled = [f"{lo:.1f}-{hi:.1f}: {f:.2f}" for lo, hi, f in
              zip(mass_edges[:-1], mass_edges[1:], pooled) if np.isfinite(f)]
    result.summary = ("pooled fraction " + "; ".join(filled) if filled else
                      f"no cluster with {aperture.min_galaxies} galaxies in its cylinder")
    result.limitations.append(f"interlopers counted among galaxies with M_r - 5 log h < "
                              f"{mag_limit}; the Deep Sets paper cut on stellar mass at z = 0.5")
    return result


# --- helpers --------------------------------------------------------------------------------

def _status(judged: np.ndarray, fails: np.ndarray) -> str:
    if not judged.any():
        return NOT_JUDGED
    return FALL_SHORT if fails.any() else PASS


def _max_abs(values: np.ndarray) -> float | None:
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    return float(np.max(np.abs(values))) if values.size else None


def _judged_range(edges: np.ndarray, judged: np.ndarray) -> list[float] | None:
    idx = np.flatnonzero(judged)
    return [float(edges[idx[0]]), float(edges[idx[-1] + 1])] if idx.size else None


def _ratio_summary(result: CheckResult, what: str) -> str:
    n = result.numbers
    if not n["n_judged_bins"]:
        return f"no {what} judged"
    return (f"{n['n_judged_bins'] - n['n_failed_bins']}/{n['n_judged_bins']} {what} within "
            f"tolerance, max |dev| {n['max_abs_deviation']:.1%}")
