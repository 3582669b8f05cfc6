"""Pieces shared by the simulation readers: argument checks, halo mass definitions and
the host-halo index.

Memory model of every reader: input is read ``chunk_size`` rows at a time and written
through :class:`~surveymass.universe.store.UniverseWriter`; the only state that grows with
the input is the :class:`HostIndex` (8 bytes per host halo), which links satellites to
hosts read in other chunks, and, when a Rockstar halo catalogue is given, its index of
distinct halos (16 bytes per halo, :class:`~.uchuu.RockstarHaloCatalogue`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from surveymass.cosmology import colossus_cosmology
from surveymass.errors import InputError
from surveymass.halo import nfw_mass_in_definition, nfw_radius_ratio
from surveymass.halo import r200c as halo_r200c

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

#: Rows read per chunk by default (about 100 MB of working memory for the widest reader).
DEFAULT_CHUNK_SIZE = 1_000_000

#: Concentration–mass relation used when a halo catalogue gives no scale radius:
#: Ishiyama et al. 2021 (MNRAS 506, 4210), calibrated on Uchuu itself (colossus model name).
CONCENTRATION_MODEL = "ishiyama21"

#: What to do with a galaxy whose host halo is not in the catalogue.
MISSING_HOST_POLICIES = ("error", "drop")


def check_chunk_size(chunk_size: int) -> int:
    """Return ``chunk_size`` as an int, or raise :class:`InputError` unless it is >= 1."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) \
            or chunk_size < 1:
        raise InputError(f"chunk_size must be a positive number of rows, got {chunk_size!r}")
    return int(chunk_size)


def check_redshift(redshift: float) -> float:
    """Return the snapshot redshift, or raise unless it is finite and > -0.01 (the last
    snapshots of some simulations lie just beyond a = 1, e.g. UniverseMachine's 1.00231)."""
    if not (np.isfinite(redshift) and redshift > -0.01):
        raise InputError(f"snapshot redshift must be >= 0, got {redshift}")
    return float(redshift)


def check_missing_host_policy(policy: str) -> str:
    """Return ``policy`` or raise :class:`InputError` unless it is 'error' or 'drop'."""
    if policy not in MISSING_HOST_POLICIES:
        raise InputError(f"missing_hosts must be one of {MISSING_HOST_POLICIES}, got {policy!r}")
    return policy


def wrap_positions(columns: dict[str, np.ndarray], box_size: float) -> None:
    """Map x, y, z [h^-1 Mpc] into the periodic box [0, box_size) (float32) in place.

    Raises :class:`InputError` when positions lie more than one box outside it, which
    means the box size (or the position unit) is wrong.
    """
    for axis in ("x", "y", "z"):
        pos = np.asarray(columns[axis], dtype=np.float64)
        if pos.size and (pos.min() < -box_size or pos.max() > 2 * box_size):
            raise InputError(f"{axis} positions span [{pos.min():.4g}, {pos.max():.4g}] "
                             f"h^-1 Mpc, far outside the box of {box_size:g} h^-1 Mpc; check "
                             "the box size and that positions are comoving h^-1 Mpc")
        # stored as float32: a value just below 0 wraps to just below box_size in float64
        # but rounds up to box_size in float32, which belongs at 0
        wrapped = np.mod(pos, box_size).astype(np.float32)
        wrapped[wrapped >= np.float32(box_size)] = 0.0
        columns[axis] = wrapped


def c200c_from_model(m200c: np.ndarray, redshift: float, cosmology: FLRW) -> np.ndarray:
    """NFW concentration c200c of the :data:`CONCENTRATION_MODEL` at mass ``m200c``."""
    from colossus.halo import concentration

    colossus_cosmology(cosmology)
    (c200c,) = _on_mass_grid(m200c, lambda m: [concentration.concentration(
        m, "200c", redshift, model=CONCENTRATION_MODEL)])
    return c200c


def r200c_and_concentration(m200c: np.ndarray, rs: np.ndarray, redshift: float,
                            cosmology: FLRW) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Comoving R200c [h^-1 Mpc] and c200c = R200c / r_s of halos of mass ``m200c``
    [h^-1 Msun, > 0] with Rockstar scale radii ``rs`` [comoving h^-1 kpc]; where r_s is not
    positive, c200c comes from the :data:`CONCENTRATION_MODEL`. Returns (R200c, c200c,
    mask of model concentrations)."""
    r200c = halo_r200c(m200c, redshift, cosmology)
    model = ~(np.asarray(rs) > 0)
    c200c = r200c * 1000.0 / np.where(model, 1.0, rs)
    if model.any():
        c200c[model] = c200c_from_model(np.asarray(m200c)[model], redshift, cosmology)
    return r200c, c200c, model


def m200c_from_mvir(mvir: np.ndarray, redshift: float, cosmology: FLRW
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Convert virial masses (Bryan & Norman 1998) [h^-1 Msun] to 200c for NFW halos with
    the :data:`CONCENTRATION_MODEL` concentration (colossus) and the package's NFW
    conversion (:func:`surveymass.halo.nfw_mass_in_definition`).

    Returns M200c [h^-1 Msun], comoving R200c [h^-1 Mpc] and c200c.
    """
    from colossus.halo import concentration

    colossus_cosmology(cosmology)

    def convert(m):
        c_vir = concentration.concentration(m, "vir", redshift, model=CONCENTRATION_MODEL)
        m200c = nfw_mass_in_definition(m, c_vir, redshift, "vir", "200c")
        return [np.log(m200c / m), c_vir * nfw_radius_ratio(c_vir, redshift, "vir", "200c")]

    log_ratio, c200c = _on_mass_grid(mvir, convert)
    m200c = np.asarray(mvir, dtype=np.float64) * np.exp(log_ratio)
    return m200c, halo_r200c(m200c, redshift, cosmology), c200c


def _on_mass_grid(mass: np.ndarray, function, points_per_dex: int = 40) -> np.ndarray:
    """Evaluate ``function(mass) -> [row, ...]`` (smooth in log mass) on a log-spaced grid
    spanning ``mass`` [h^-1 Msun] and interpolate each row; returns shape (rows, len(mass)).

    colossus' concentration models are smooth in log mass, so 40 points per dex keep the
    interpolation error far below their scatter while costing microseconds per chunk.
    """
    mass = np.asarray(mass, dtype=np.float64)
    if np.any(~(mass > 0)):
        raise InputError(f"{int(np.sum(~(mass > 0)))} halo masses are not positive; a mass "
                         "definition cannot be converted without a mass")
    log_m = np.log10(mass)
    lo, hi = (log_m.min(), log_m.max()) if mass.size else (12.0, 12.0)
    # nodes on a fixed lattice, so that the result does not depend on how rows are chunked
    nodes = np.arange(np.floor(lo * points_per_dex), np.ceil(hi * points_per_dex) + 2)
    grid = nodes / points_per_dex
    return np.array([np.interp(log_m, grid, row) for row in function(10.0 ** grid)])


def halo_columns(ids, m200c, r200c, concentration, x, y, z, vx, vy, vz) -> dict:
    """The halo table columns of :data:`~surveymass.universe.store.HALO_COLUMNS`."""
    return dict(halo_id=ids, m200c=m200c, r200c=r200c, concentration=concentration,
                x=x, y=y, z=z, vx=vx, vy=vy, vz=vz)


@dataclass
class HostIndex:
    """Ids of every host halo met in the first pass, split into kept (written) and cut
    hosts and sorted in place (8 bytes per host); links satellites read in later chunks
    to their hosts with binary search."""

    _kept: list = field(default_factory=list)
    _cut: list = field(default_factory=list)

    def add(self, ids: np.ndarray, kept: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self._kept.append(ids[kept])
        self._cut.append(ids[~kept])

    def freeze(self) -> HostIndex:
        """Sort the collected ids (call once, after the first pass)."""
        self._kept = [_sorted_ids(self._kept)]
        self._cut = [_sorted_ids(self._cut)]
        both = _contains(self._kept[0], self._cut[0])
        if both.any():
            raise InputError(f"host halo id {self._cut[0][both][0]} appears more than once; "
                             "ids must be unique")
        return self

    def lookup(self, host_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, kept) boolean arrays for each id in ``host_ids``."""
        kept = _contains(self._kept[0], host_ids)
        return kept | _contains(self._cut[0], host_ids), kept


def _sorted_ids(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate id arrays, free the parts, sort in place; raise on duplicates."""
    ids = np.concatenate(parts) if parts else np.empty(0, np.int64)
    parts.clear()
    ids.sort()
    duplicate = ids[1:] == ids[:-1]
    if duplicate.any():
        raise InputError(f"host halo id {ids[1:][duplicate][0]} appears more than once; "
                         "ids must be unique")
    return ids


def _contains(sorted_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """True where ``values`` occur in ``sorted_ids``."""
    if sorted_ids.size == 0:
        return np.zeros(len(values), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_ids, values), sorted_ids.size - 1)
    return sorted_ids[pos] == values


def missing_host_error(what: str, n_missing: int, example: int, hint: str) -> InputError:
    """The error raised when ``n_missing`` objects name a host that is not in the input."""
    return InputError(f"{n_missing} {what} name a host halo that is not in the input "
                      f"(first missing host id: {example}); {hint}. To convert anyway and "
                      "drop them (the count is recorded in the output config), use "
                      "missing_hosts='drop' (CLI: --drop-missing-hosts)")
