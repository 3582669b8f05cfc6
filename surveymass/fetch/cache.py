"""The local query cache: one ECSV file per query, keyed by a hash of the query.

Beside each answer ``<key>.ecsv`` a record ``<key>.check.json`` holds its number of rows,
its size in bytes and its SHA-256, written together with it; a file that no longer matches
its record (cut short by a crash or a full disk, or edited) is never used: it is fetched
again, or, when the service cannot be reached, refused with a :class:`ServiceError`.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable
from pathlib import Path

from astropy.table import Table

from surveymass.errors import ServiceError, SurveymassError
from surveymass.outputs import staged_outputs
from surveymass.paths import cache_dir


class CacheWarning(UserWarning):
    """A cache file could not be used (it is refetched) or could not be verified."""


class DamagedCacheError(SurveymassError):
    """A cache file is unreadable or does not match its record (truncated or changed)."""


def cache_key(service: str, **query: object) -> str:
    """A stable name for a query: ``<service>_<sha256 of the sorted query, 16 hex>``."""
    text = json.dumps({"service": service, **query}, sort_keys=True, default=str)
    return f"{service}_{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def cache_path(key: str) -> Path:
    """The file that holds the cached answer of query ``key``."""
    return cache_dir() / f"{key}.ecsv"


def record_path(key: str) -> Path:
    """The file that records the rows, bytes and SHA-256 of the answer of ``key``."""
    return cache_dir() / f"{key}.check.json"


def load_cached(key: str) -> Table | None:
    """The cached table of ``key``; None when absent. Raises :class:`DamagedCacheError`
    for a file that cannot be read or does not match its record. A file without a record
    (from an older surveymass, or placed by hand) is used as it is, with a warning."""
    path = cache_path(key)
    if not path.exists():
        return None
    data = path.read_bytes()
    try:
        table = Table.read(data.decode().splitlines(), format="ascii.ecsv")
    except Exception as exc:  # noqa: BLE001 - any parse failure means a damaged file
        raise DamagedCacheError(f"cache file {path} is damaged ({type(exc).__name__})") from exc
    if not record_path(key).exists():
        warnings.warn(f"cache file {path} has no length and checksum record (written by an "
                      "older surveymass, or by hand): used as it is; delete it to fetch the "
                      "query again", CacheWarning, stacklevel=2)
        return table
    try:
        record = json.loads(record_path(key).read_text())
        rows, size, sha256 = record["rows"], record["bytes"], record["sha256"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DamagedCacheError(f"the record {record_path(key)} of cache file {path} is "
                                "damaged") from exc
    if len(table) != rows or len(data) != size:
        raise DamagedCacheError(f"cache file {path} is damaged: it holds {len(table)} rows "
                                f"and {len(data)} bytes where {rows} rows and {size} bytes "
                                "were written (truncated)")
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DamagedCacheError(f"cache file {path} is damaged: its SHA-256 differs from "
                                "the one recorded when it was written")
    return table


def store_cached(key: str, table: Table) -> None:
    """Write ``table`` as the cached answer of ``key``, with its record (both atomically,
    together)."""
    with staged_outputs([cache_path(key), record_path(key)], overwrite=True) as (tmp, rec):
        table.write(tmp, format="ascii.ecsv")
        data = tmp.read_bytes()
        rec.write_text(json.dumps({"rows": len(table), "bytes": len(data),
                                   "sha256": hashlib.sha256(data).hexdigest()}))


def cached_query(key: str, query: Callable[[], Table], use_cache: bool = True,
                 validate: Callable[[Table], None] | None = None) -> Table:
    """The answer of query ``key``: the cached copy when it is complete (and passes
    ``validate``, which raises a :class:`SurveymassError` otherwise), else ``query()``,
    which is then cached. A damaged copy is fetched again with a :class:`CacheWarning`;
    if the query fails too, the :class:`ServiceError` says the copy is damaged."""
    damage = None
    if use_cache:
        try:
            table = load_cached(key)
            if table is not None:
                if validate is not None:
                    validate(table)
                return table
        except SurveymassError as exc:
            damage = exc
            warnings.warn(f"{exc}; fetching the query again", CacheWarning, stacklevel=2)
    try:
        table = query()
    except ServiceError as exc:
        if damage is None:
            raise
        raise ServiceError(f"{damage}, and fetching it again failed: {exc}. A damaged cached "
                           "answer is never used: run again when the service is "
                           "reachable") from exc
    store_cached(key, table)
    return table
