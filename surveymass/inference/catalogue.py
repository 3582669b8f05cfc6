"""Catalogue mode: weigh every cluster of a cluster table from one large galaxy table.

``surveymass infer GALAXIES --clusters CLUSTERS``: the galaxy table (a survey's
spectroscopic sample, 10^5-10^6 rows) is read and cleaned once and indexed on the sky
(:class:`~surveymass.masks.sky.SkyIndex`); each cluster's field is the galaxies in a cone
and velocity window a little wider than the bundle's aperture (:data:`FIELD_MARGIN`: the
centre re-runs of the ``centre_sensitive`` check move the aperture), which
:func:`~surveymass.inference.infer.infer_fields` then observes and weighs like any other
field. The coverage of each aperture by the galaxy table itself
(:class:`~surveymass.masks.footprint.TableFootprint`) joins the survey mask's.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from astropy.table import Table

from surveymass.catalog import find_columns, read_table
from surveymass.cluster import Cluster
from surveymass.errors import InputError
from surveymass.inference.fields import ClusterField
from surveymass.masks.sky import SkyIndex
from surveymass.phasespace import angular_radius, los_velocity

#: Spellings of a clusters table's name column (case as given), first match wins.
NAME_COLUMNS = ("name", "Name", "NAME", "cluster", "Cluster", "cluster_name")
#: Field cone and velocity window as multiples of the aperture's r_max and v_max: room for
#: the centre offsets of the ``centre_sensitive`` check (0.15 h^-1 Mpc of 1.6; a few
#: hundred km/s of 2200) with some to spare.
FIELD_MARGIN = 1.25


def read_clusters(path: str | Path) -> tuple[list[Cluster], Table]:
    """The clusters of a table with name, ra [deg], dec [deg] and z columns (common
    spellings: :data:`NAME_COLUMNS`, :data:`surveymass.catalog.ALIASES`), and a table of
    its other columns (carried through to the results). Every row must be a valid cluster
    (:class:`~surveymass.cluster.Cluster`) and the names unique."""
    table = read_table(path, "clusters table")
    sky = find_columns(table.colnames)
    found = {"name": next((n for n in NAME_COLUMNS if n in table.colnames), None),
             "ra": sky.get("ra"), "dec": sky.get("dec"), "z": sky.get("z") or sky.get("z_cl")}
    missing = [role for role, column in found.items() if column is None]
    if missing:
        raise InputError(f"clusters table {path} lacks {', '.join(missing)} (columns found: "
                         f"{', '.join(table.colnames)}); it needs name, ra and dec [deg] "
                         "and z (common spellings are recognised)")
    names = [str(n).strip() for n in table[found["name"]]]
    repeated = sorted(n for n, count in Counter(names).items() if count > 1)
    if repeated:
        raise InputError(f"clusters table {path}: names must be unique; repeated: "
                         f"{', '.join(repeated[:5])}{' ...' if len(repeated) > 5 else ''}")
    clusters = []
    for i, name in enumerate(names):
        values = [_cell(table[found[k]][i]) for k in ("ra", "dec", "z")]
        try:
            clusters.append(Cluster(name, *values, source=str(path)))
        except InputError as exc:
            raise InputError(f"clusters table {path}, row {i + 1}: {exc}") from None
    extra = table.copy(copy_data=False)
    extra.remove_columns(list(found.values()))
    return clusters, extra


def _cell(value) -> float:
    """A table cell as a float (masked or not a number -> NaN, which every range check
    of :class:`~surveymass.cluster.Cluster` refuses)."""
    try:
        return np.nan if np.ma.is_masked(value) else float(value)
    except (TypeError, ValueError):
        return np.nan


def catalogue_fields(galaxies: Table, clusters: list[Cluster], aperture, cosmology,
                     footprint=None, cleaning: str = "") -> list[ClusterField]:
    """One :class:`~surveymass.inference.fields.ClusterField` per cluster (in order): the
    galaxies of the cleaned table ``galaxies`` in the cluster's cone of radius
    FIELD_MARGIN r_max and |v_los| < FIELD_MARGIN v_max, found through a sky index (no
    scan of the table per cluster); ``footprint``: the table's own
    (:class:`~surveymass.masks.footprint.TableFootprint`), whose index is reused."""
    index = footprint.index if footprint is not None else SkyIndex(galaxies["ra"],
                                                                   galaxies["dec"])
    ra, dec, z = (np.array([getattr(c, k) for c in clusters]) for k in ("ra", "dec", "z"))
    cones = index.cones(ra, dec, angular_radius(FIELD_MARGIN * aperture.r_max, z, cosmology))
    z_gal = np.asarray(galaxies["z"], float)
    fields = []
    for cluster, cone in zip(clusters, cones):
        near = np.abs(los_velocity(z_gal[cone], cluster.z)) < FIELD_MARGIN * aperture.v_max
        fields.append(ClusterField(cluster, galaxies[cone[near]], cleaning, footprint))
    return fields
