"""The local query cache: one ECSV file per query, keyed by a hash of the query."""

from __future__ import annotations

import hashlib
import json
import warnings

from astropy.table import Table

from surveymass.paths import cache_dir
from surveymass.provenance import atomic_path


class CacheWarning(UserWarning):
    """A cache file could not be used (it is refetched)."""


def cache_key(service: str, **query: object) -> str:
    """A stable name for a query: ``<service>_<sha256 of the sorted query, 16 hex>``."""
    text = json.dumps({"service": service, **query}, sort_keys=True, default=str)
    return f"{service}_{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def cache_path(key: str):
    """The file that holds the cached answer of query ``key``."""
    return cache_dir() / f"{key}.ecsv"


def load_cached(key: str) -> Table | None:
    """The cached table of ``key``; None when absent or unreadable (with a warning)."""
    path = cache_path(key)
    if not path.exists():
        return None
    try:
        return Table.read(path, format="ascii.ecsv")
    except Exception as exc:  # noqa: BLE001 - any parse failure means a damaged file
        warnings.warn(f"cache file {path} is damaged ({type(exc).__name__}); fetching the "
                      "query again", CacheWarning, stacklevel=2)
        return None


def store_cached(key: str, table: Table) -> None:
    """Write ``table`` as the cached answer of ``key`` (atomically)."""
    with atomic_path(cache_path(key)) as tmp:
        table.write(tmp, format="ascii.ecsv")
