"""The shipped cluster registry (``surveymass/data/catalogs/clusters.ecsv``) and cluster-name resolution.

Names match case- and space-insensitively, and Abell numbers in any spelling ("A1656",
"Abell 1656", "ACO 01656"). Unknown names fall back to NED (astroquery) when online.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

import numpy as np

from surveymass.cluster import Cluster
from surveymass.errors import InputError, ServiceError
from surveymass.paths import CATALOGS

REGISTRY_PATH = CATALOGS / "clusters.ecsv"

def normalize_name(name: str) -> str:
    """Lower case without spaces/underscores; Abell spellings become ``a<number>``."""
    key = re.sub(r"[\s_]+", "", str(name)).lower()
    match = re.fullmatch(r"(?:abell|aco|a)0*(\d+)", key)
    return f"a{match.group(1)}" if match else key


def registry_aliases(table) -> list[list[str]]:
    """The aliases of each row of a registry table (ECSV reads an empty field as masked)."""
    return [[a.strip() for a in str(text).split(";") if a.strip()]
            for text in np.ma.filled(table["aliases"], "")]


@lru_cache(maxsize=1)
def _registry() -> dict[str, Cluster]:
    """Registry clusters by normalised name and alias."""
    from astropy.table import Table

    table = Table.read(REGISTRY_PATH, format="ascii.ecsv")
    by_key: dict[str, Cluster] = {}
    for row, aliases in zip(table, registry_aliases(table), strict=True):
        cluster = Cluster(str(row["name"]), float(row["ra"]), float(row["dec"]),
                          float(row["z"]), str(row["source"]))
        for label in [cluster.name, *aliases]:
            by_key.setdefault(normalize_name(label), cluster)
    return by_key


def registry_clusters() -> list[Cluster]:
    """All clusters of the shipped registry, in file order."""
    seen, out = set(), []
    for cluster in _registry().values():
        if cluster.name not in seen:
            seen.add(cluster.name)
            out.append(cluster)
    return out


def lookup(name: str) -> Cluster | None:
    """The registry entry for ``name`` (any alias or spelling), or None."""
    return _registry().get(normalize_name(name))


def suggestions(name: str, n: int = 5) -> list[str]:
    """Names of the registry clusters closest to ``name`` (difflib), for error messages."""
    by_key = _registry()
    close = difflib.get_close_matches(normalize_name(name), list(by_key), n=3 * n, cutoff=0.6)
    return list(dict.fromkeys(by_key[k].name for k in close))[:n]


def resolve_cluster(name: str, online: bool = True) -> Cluster:
    """The cluster called ``name``: from the registry, else from NED when ``online``.

    Raises InputError naming close registry entries and the ``--ra/--dec/--z`` options
    when the name is unknown and NED cannot resolve it (or ``online`` is False), and
    ServiceError (with the same advice) when NED cannot be reached or answers with an error.
    """
    if not str(name).strip():
        raise InputError("empty cluster name: give a name (e.g. 'coma') or --ra/--dec/--z")
    found = lookup(name)
    if found is not None:
        return found
    reason = "not in the shipped registry (surveymass/data/catalogs/clusters.ecsv)"
    error: type[InputError | ServiceError] = InputError
    if online:
        try:
            from surveymass.fetch.ned import resolve_name  # astroquery: slow

            return resolve_name(name)
        except InputError as exc:
            reason += f"; NED: {exc}"
        except ServiceError as exc:  # NED down: a service failure, not a wrong name
            reason += f"; {str(exc).rstrip('. ')}"
            error = ServiceError
    close = suggestions(name)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise error(f"unknown cluster {name!r}: {reason}.{hint} Or give the centre "
                "explicitly with --ra DEG --dec DEG --z REDSHIFT.")
