"""Fetch the spectroscopic galaxies around a cluster from SDSS and NED.

``fetch_field(FieldQuery(cluster))`` queries the services (through the local cache, with
retries), keeps good galaxy spectra inside the requested cylinder, merges the two
services preferring SDSS, cleans the result and returns it with the header of the sky
catalogue (docs/architecture.md); ``FetchResult.write`` saves it.
"""

from __future__ import annotations

import datetime as _dt
import math
import warnings
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
from astropy.table import Table

from surveymass.catalog import clean_catalog, standardize, write_catalog
from surveymass.cluster import Cluster
from surveymass.cosmology import default_cosmology, transverse_comoving_distance
from surveymass.errors import InputError, SurveymassError
from surveymass.fetch.cache import cache_key, cached_query
from surveymass.fetch.merge import merge_sources
from surveymass.fetch.ned import query_ned
from surveymass.fetch.network import with_retries
from surveymass.fetch.sdss import RELEASES, query_sdss
from surveymass.masks.footprint import aperture_coverage
from surveymass.phasespace import Aperture, redshift_at_velocity, sky_to_phase_space
from surveymass.progress import progress_bar

SERVICES = ("sdss", "ned")
SERVICE_NAMES = {"sdss": "SDSS SkyServer", "ned": "NED"}
#: Widest cone [deg] sent to the services (larger ones time out or are refused).
MAX_CONE_DEG = 10.0


@dataclass(frozen=True)
class FieldQuery:
    """What to fetch: galaxies within ``radius`` [comoving h^-1 Mpc] of the cluster centre
    and ``vwindow`` [km/s, rest frame] of its redshift, from ``sources``."""

    cluster: Cluster
    radius: float = 4.0
    vwindow: float = 4000.0
    sources: tuple[str, ...] = SERVICES
    data_release: int = 17

    def __post_init__(self) -> None:
        sources = parse_sources(self.sources)
        object.__setattr__(self, "sources", sources)
        if not (math.isfinite(self.radius) and 0 < self.radius <= 50):
            raise InputError(f"radius {self.radius} h^-1 Mpc must be > 0 and <= 50")
        if not (math.isfinite(self.vwindow) and 0 < self.vwindow <= 30000):
            raise InputError(f"velocity window {self.vwindow} km/s must be > 0 and <= 30000")
        if self.data_release not in RELEASES:
            raise InputError(f"SDSS data release {self.data_release} is not supported; "
                             f"use {RELEASES.start} to {RELEASES.stop - 1} (default 17)")

    def angular_radius_deg(self, cosmology) -> float:
        """Cone half-angle [deg] whose tangent-plane radius is ``radius`` at the cluster."""
        d_m = float(transverse_comoving_distance(cosmology, self.cluster.z))
        return math.degrees(math.atan(self.radius / d_m))

    def z_range(self) -> tuple[float, float]:
        """Observed redshifts with |v_los| <= vwindow (``phasespace.redshift_at_velocity``)."""
        lo, hi = redshift_at_velocity(np.array([-self.vwindow, self.vwindow]), self.cluster.z)
        return max(float(lo), 0.0), float(hi)

    def inside(self, table: Table, cosmology) -> np.ndarray:
        """Mask of the galaxies of a sky catalogue inside the query cylinder."""
        if len(table) == 0:
            return np.zeros(0, bool)
        c = self.cluster
        ps = sky_to_phase_space(table["ra"], table["dec"], table["z"], c.ra, c.dec, c.z,
                                cosmology)
        return Aperture(r_max=self.radius, v_max=self.vwindow).contains(ps)


def parse_sources(sources: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """'sdss', 'ned', 'both' or a list of them -> a tuple of service names."""
    items = [sources] if isinstance(sources, str) else list(sources)
    names: list[str] = []
    for item in items:
        for name in str(item).lower().replace(",", " ").split():
            names.extend(SERVICES if name == "both" else [name])
    unknown = sorted(set(names) - set(SERVICES))
    if unknown or not names:
        raise InputError(f"unknown source(s) {unknown or sources!r}: use sdss, ned or both")
    return tuple(s for s in SERVICES if s in names)


@dataclass
class FetchResult:
    """A fetched field: the cleaned galaxies, the cluster and the catalogue header."""

    table: Table
    cluster: Cluster
    header: dict = field(default_factory=dict)

    def write(self, path: str | Path, overwrite: bool = False) -> Path:
        """Save as a sky catalogue FITS file (atomic; refuses to overwrite by default)."""
        return write_catalog(self.table, path, self.cluster, self.header, overwrite=overwrite)


def fetch_field(query: FieldQuery, cosmology=None, use_cache: bool = True,
                quiet: bool = False) -> FetchResult:
    """Galaxies with good spectroscopic redshifts in the cylinder of ``query``.

    ``cosmology`` (default Planck15) converts the comoving radius to an angle. Raises
    ServiceError when a service cannot be reached, SurveymassError when nothing is found.
    """
    cosmology = cosmology or default_cosmology()
    radius_arcmin = 60.0 * query.angular_radius_deg(cosmology)
    if radius_arcmin > 60.0 * MAX_CONE_DEG:
        raise InputError(f"{query.radius} h^-1 Mpc at z = {query.cluster.z} is a cone of "
                         f"{radius_arcmin / 60:.1f} deg, wider than the {MAX_CONE_DEG:g} deg "
                         "the services answer; use a smaller --radius")
    per_source = {}
    for service in progress_bar(query.sources, desc="querying", quiet=quiet, leave=False):
        table = _query_service(service, query, radius_arcmin, use_cache)
        per_source[service] = table[query.inside(table, cosmology)] if len(table) else table
    sdss = per_source.get("sdss", _empty())
    ned = per_source.get("ned", _empty())
    merged, n_matched = merge_sources(sdss, ned)
    cleaned, report = clean_catalog(merged)
    if len(cleaned) == 0:
        raise SurveymassError(
            f"no galaxy with a good spectroscopic redshift within {query.radius} h^-1 Mpc and "
            f"{query.vwindow} km/s of {query.cluster.name} ({', '.join(query.sources)}). Check "
            "the centre and redshift, or widen --radius/--vwindow, or try --sources ned "
            "outside the SDSS footprint")
    z_min, z_max = query.z_range()
    header = {
        "RADIUS": query.radius, "VWINDOW": query.vwindow, "ANGRAD": round(radius_arcmin, 4),
        "ZMIN": z_min, "ZMAX": z_max, "DR": query.data_release,
        "SOURCES": ",".join(query.sources), "COSMO": getattr(cosmology, "name", "") or "",
        "QTIME": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "N_SDSS": int(np.sum(cleaned["source"] == "sdss")),
        "N_NED": int(np.sum(cleaned["source"] == "ned")), "N_MATCH": n_matched,
        "N_ZBAD": report.bad_redshift, "N_REPEAT": report.repeat_spectra,
    }
    header.update(footprint_header(query, cosmology))
    return FetchResult(cleaned, query.cluster, header)


def _empty() -> Table:
    return standardize(Table({"ra": [], "dec": [], "z": []}))


def _query_service(service: str, query: FieldQuery, radius_arcmin: float,
                   use_cache: bool) -> Table:
    """One service's answer (a sky catalogue), from the cache when possible."""
    c = query.cluster
    z_min, z_max = query.z_range()
    key_fields = {"ra": round(c.ra, 6), "dec": round(c.dec, 6),
                  "radius_arcmin": round(radius_arcmin, 4)}
    if service == "sdss":
        key_fields.update(dr=query.data_release, z_min=round(z_min, 6), z_max=round(z_max, 6))
        call = partial(query_sdss, c.ra, c.dec, radius_arcmin, z_min, z_max,
                       data_release=query.data_release)
    else:
        call = partial(query_ned, c.ra, c.dec, radius_arcmin)
    return cached_query(cache_key(service, **key_fields),
                        partial(with_retries, call, SERVICE_NAMES[service]), use_cache)


def footprint_header(query: FieldQuery, cosmology) -> dict:
    """{"FOOTCOV": fraction of the query aperture inside the SDSS Legacy footprint}, with
    a warning when it is below 1; {} (and a warning) when the footprint map is missing."""
    c = query.cluster
    try:
        coverage = float(aperture_coverage(c.ra, c.dec, c.z, query.radius, cosmology))
    except InputError as exc:  # e.g. the footprint map is not installed
        warnings.warn(f"footprint coverage not computed: {exc}", UserWarning, stacklevel=3)
        return {}
    if coverage < 1.0:
        warnings.warn(f"only {coverage:.0%} of the {query.radius} h^-1 Mpc aperture around "
                      f"{c.name} lies inside the SDSS spectroscopic footprint; galaxies "
                      "outside it are missing from SDSS", UserWarning, stacklevel=3)
    return {"FOOTCOV": round(coverage, 4)}
