"""The cluster fields ``infer`` weighs, from galaxy catalogue files.

A file is one cluster's field (its cluster in the header, or given by --ra/--dec/--z or
--name), a batch of fields (a cluster-id column of registry names), or, in catalogue mode
(:mod:`surveymass.inference.catalogue`), a survey table from which every cluster of a
clusters table gets its field. Each field carries the sky its own table covers
(:class:`~surveymass.masks.footprint.TableFootprint`), so that a table cut by a stripe or
a box flags the clusters at its edge.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.table import Table

from surveymass.catalog import CatalogWarning, clean_catalog, read_catalog
from surveymass.cluster import Cluster
from surveymass.errors import InputError
from surveymass.masks.footprint import Footprint, TableFootprint
from surveymass.registry import resolve_cluster


@dataclass(frozen=True)
class ClusterField:
    """One cluster and the galaxies around it (a standardised, cleaned sky catalogue);
    ``cleaning`` says what the cleaning dropped (recorded in the provenance);
    ``footprint``: the sky covered by the table the galaxies come from (None: unknown,
    e.g. a field built in code; only the survey mask's coverage is then known)."""

    cluster: Cluster
    galaxies: Table
    cleaning: str = ""
    footprint: Footprint | None = None


def read_galaxies(path: str | Path) -> tuple[Table, Cluster | None, str]:
    """A catalogue file read and cleaned (:func:`~surveymass.catalog.clean_catalog`): the
    table, the cluster its header records (or None) and what the cleaning dropped."""
    table, header_cluster = read_catalog(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CatalogWarning)  # summarised in the meta
        table, report = clean_catalog(table)
    if report.n_out == 0:
        raise InputError(f"{path}: no usable galaxies ({report.summary()}); the table "
                         "needs rows with finite ra, dec and a positive redshift")
    return table, header_cluster, report.summary()


def table_footprint(table: Table, name: str) -> TableFootprint | None:
    """The sky ``table`` covers (None with fewer than 2 galaxies: too few to tell)."""
    if len(table) < 2:
        return None
    return TableFootprint(np.asarray(table["ra"], float), np.asarray(table["dec"], float),
                          name=name)


def read_fields(paths: list[str | Path], cluster: Cluster | None = None) -> list[ClusterField]:
    """The cluster fields in catalogue files.

    A file either records its cluster in the header (as ``surveymass fetch`` writes it),
    or gets ``cluster`` (from --ra/--dec/--z or --name), or has a cluster-id column whose
    values are registry names: one field per id.
    """
    fields = []
    for path in paths:
        table, header_cluster, cleaning = read_galaxies(path)
        if "cluster_id" in table.colnames:
            if cluster is not None:
                raise InputError(f"{path} has a cluster-id column (a batch of clusters): "
                                 "leave out --ra/--dec/--z and --name")
            fields += _batch_fields(table, str(path), cleaning)
            continue
        chosen = cluster or header_cluster
        if chosen is None:
            raise InputError(f"{path} does not say which cluster it is around (no CL_RA, "
                             "CL_DEC, CL_Z header keys): give --ra/--dec/--z or --name, or "
                             "a table of clusters with --clusters")
        fields.append(ClusterField(chosen, table, cleaning, table_footprint(table, str(path))))
    return fields


def _batch_fields(table: Table, path: str, cleaning: str) -> list[ClusterField]:
    """One field per cluster id, in file order; the ids are resolved in the shipped
    registry (offline)."""
    names, first, inverse = np.unique(np.asarray(table["cluster_id"]).astype(str),
                                      return_index=True, return_inverse=True)
    rows = np.split(np.argsort(inverse, kind="stable"), np.cumsum(np.bincount(inverse))[:-1])
    fields = []
    for k in np.argsort(first):
        try:
            cluster = resolve_cluster(names[k], online=False)
        except InputError as exc:
            raise InputError(f"{path}: cluster id {names[k]!r} is not a registry cluster "
                             f"({exc}); a batch table's cluster ids must be registry "
                             "names") from None
        galaxies = table[rows[k]]
        fields.append(ClusterField(cluster, galaxies, cleaning,
                                   table_footprint(galaxies, f"{path} ({names[k]})")))
    return fields
