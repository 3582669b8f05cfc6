"""The GalWeight cluster catalogue (GalWCat19; Abdullah et al. 2020, ApJS 246, 2) from
VizieR: the query, its cache and which of the catalogue's tables holds the clusters.

The VizieR catalogue (J/ApJS/246/2) holds a cluster table and a member-galaxy table; the
cluster table is recognised by its content (positions and an M200 column), not by a
hard-coded table name. The raw table is cached in the query cache
(:mod:`surveymass.fetch.cache`) and fetched with :func:`surveymass.fetch.network.with_retries`;
:mod:`surveymass.inference.galweight` turns it into reference masses.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from astropy.table import Table

from surveymass.catalog import find_columns
from surveymass.errors import ServiceError
from surveymass.fetch.cache import cache_path as _query_cache_path
from surveymass.fetch.cache import cached_query
from surveymass.fetch.network import FIRST_DELAY_S, TRIES, with_retries

VIZIER_CATALOG = "J/ApJS/246/2"

_ID_NAMES = ("ClID", "GalWCat19", "GalWCat", "ID", "Seq", "Name", "Cl")
_M200 = re.compile(r"^(log)?_?M_?200c?$", re.IGNORECASE)


#: Query-cache key of the raw GalWCat19 cluster table: a readable name (one fixed query),
#: the file ``$SURVEYMASS_CACHE/vizier/J_ApJS_246_2_clusters.ecsv``.
CACHE_KEY = "vizier/" + VIZIER_CATALOG.replace("/", "_") + "_clusters"


def cache_path() -> Path:
    """Where the raw GalWCat19 cluster table is cached (ECSV, in the query cache)."""
    return _query_cache_path(CACHE_KEY)


def fetch_galweight_table(refresh: bool = False, tries: int = TRIES,
                          first_delay_s: float = FIRST_DELAY_S) -> Table:
    """The raw GalWCat19 cluster table as VizieR serves it, from the cache when present.

    A cache file that cannot be read, does not match its recorded length and checksum, or
    holds no cluster table, is fetched again with a warning
    (:func:`~surveymass.fetch.cache.cached_query`). Transient failures are retried ``tries``
    times in all, waiting ``first_delay_s``, then twice as long each time
    (:func:`~surveymass.fetch.network.with_retries`); then, or at once for an error answer
    or an unreachable network, :class:`ServiceError`.
    """
    def query() -> Table:
        tables = with_retries(_query_vizier, f"VizieR ({VIZIER_CATALOG})", tries=tries,
                              first_delay_s=first_delay_s,
                              hint=f"Check the network and try again later, or place a "
                              f"cached copy at {cache_path()}")
        if len(tables) == 0:
            raise ServiceError(f"VizieR returned no tables for {VIZIER_CATALOG}; the "
                               "catalogue may have moved: check https://vizier.cds.unistra.fr")
        table = select_cluster_table(tables)
        table.meta["vizier_catalog"] = VIZIER_CATALOG
        table.meta["queried_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return table

    return cached_query(CACHE_KEY, query, use_cache=not refresh, validate=cluster_columns)


def _query_vizier():
    """All tables of the GalWCat19 VizieR catalogue, all rows and all columns."""
    from astroquery.vizier import Vizier

    return Vizier(row_limit=-1, columns=["**"]).get_catalogs(VIZIER_CATALOG)


def select_cluster_table(tables) -> Table:
    """The cluster table among the catalogue's tables: positions, redshift and M200."""
    for name in tables.keys():  # noqa: SIM118 - astroquery's TableList is a list
        table = tables[name]
        try:
            cluster_columns(table)
        except ServiceError:
            continue
        table.meta["vizier_table"] = name
        return table
    listing = "; ".join(f"{name}: {', '.join(tables[name].colnames[:12])}"
                        for name in tables.keys())  # noqa: SIM118
    raise ServiceError(f"no table of {VIZIER_CATALOG} has RA, Dec, z and an M200 column "
                       f"(tables: {listing}); the VizieR format changed, please report it")


def _first(table: Table, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in table.colnames), None)


def cluster_columns(table: Table) -> dict[str, str | None]:
    """Names of the columns that matter in a GalWCat19 cluster table."""
    mass = next((n for n in table.colnames if _M200.match(n)), None)
    sky = find_columns(table.colnames)
    cols = {"ra": sky.get("ra"), "dec": sky.get("dec"), "z": sky.get("z") or sky.get("z_cl"),
            "mass": mass}
    missing = [k for k, v in cols.items() if v is None]
    if missing:
        raise ServiceError(f"table lacks {', '.join(missing)} columns")
    ucd_id = next((n for n in table.colnames
                   if table[n].meta.get("ucd", "").startswith("meta.id;meta.main")), None)
    cols["id"] = ucd_id or _first(table, _ID_NAMES)
    cols["err_lo"] = _first(table, (f"e_{mass}",))
    cols["err_hi"] = _first(table, (f"E_{mass}",)) or cols["err_lo"]
    return cols
