"""The shipped cluster registry (``surveymass/data/catalogs/clusters.ecsv``) and cluster-name resolution.

Names match case- and space-insensitively, and Abell numbers in any spelling ("A1656",
"Abell 1656", "ACO 01656"). Unknown names fall back to NED (astroquery) when online.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from surveymass.errors import InputError, ServiceError
from surveymass.paths import CATALOGS

REGISTRY_PATH = CATALOGS / "clusters.ecsv"

#: Highest cluster redshift accepted: the method targets low-redshift spectroscopic surveys.
Z_MAX = 2.0


@dataclass(frozen=True)
class Cluster:
    """A cluster centre: ``ra``, ``dec`` [deg, ICRS], heliocentric redshift ``z``.

    RA must lie in [0, 360) or, in the -180..180 convention, in [-180, 0) (wrapped into
    [0, 360)); Dec in [-90, 90]; InputError otherwise."""

    name: str
    ra: float
    dec: float
    z: float
    source: str = ""

    def __post_init__(self) -> None:
        ra, dec, z = (_as_float(v) for v in (self.ra, self.dec, self.z))
        problems = []
        if not -180.0 <= ra < 360.0:
            problems.append(f"RA {self.ra!r} is outside 0 <= RA < 360 degrees (or -180 "
                            "to 0)")
        if not -90.0 <= dec <= 90.0:
            problems.append(f"Dec {self.dec!r} is not within -90 to +90 degrees")
        if not 0.0 < z <= Z_MAX:
            problems.append(f"redshift {self.z!r} must be > 0 and <= {Z_MAX}")
        if problems:
            raise InputError(f"cluster {self.name!r}: " + "; ".join(problems))
        object.__setattr__(self, "ra", ra % 360.0)
        object.__setattr__(self, "dec", dec)
        object.__setattr__(self, "z", z)


def _as_float(value) -> float:
    """``value`` as a float; NaN (which fails every range check) when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


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
            return _resolve_with_ned(name)
        except InputError as exc:
            reason += f"; NED: {exc}"
        except ServiceError as exc:  # NED down: a service failure, not a wrong name
            reason += f"; {str(exc).rstrip('. ')}"
            error = ServiceError
    close = suggestions(name)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise error(f"unknown cluster {name!r}: {reason}.{hint} Or give the centre "
                "explicitly with --ra DEG --dec DEG --z REDSHIFT.")


def _resolve_with_ned(name: str) -> Cluster:
    """Resolve ``name`` with NED's object query (retried, see
    :func:`surveymass.fetch.network.with_retries`); InputError when NED does not know the
    name, ServiceError when NED cannot be reached or answers with another error."""
    from astroquery.exceptions import RemoteServiceError
    from astroquery.ipac.ned import Ned

    from surveymass.fetch.network import describe, with_retries

    def query():
        try:
            return Ned.query_object(name)
        except RemoteServiceError as exc:  # NED's answer to a name it cannot resolve
            return exc

    result = with_retries(query, "NED", hint="")
    if isinstance(result, RemoteServiceError):
        raise InputError(f"could not resolve it ({' '.join(describe(result).split())})")
    if result is None or len(result) == 0:
        raise InputError("no object of that name")
    row = result[0]
    ra_col = "RA" if "RA" in result.colnames else "RA(deg)"
    dec_col = "DEC" if "DEC" in result.colnames else "DEC(deg)"
    z = row["Redshift"]
    if z is None or getattr(z, "mask", False) or not math.isfinite(float(z)) or float(z) <= 0:
        raise InputError("NED knows the object but gives no positive redshift")
    return Cluster(str(row["Object Name"]).strip() or name, float(row[ra_col]),
                   float(row[dec_col]), float(z), source="NED object query")


def cluster_from_options(name: str | None, ra: str | float | None, dec: str | float | None,
                         z: str | float | None) -> Cluster | None:
    """The cluster given on a command line (``NAME``/``--name``, ``--ra/--dec/--z``), or
    None when none is given. The one rule for every command:

    - ``--ra``, ``--dec`` and ``--z`` together give the centre (``name`` labels it);
    - a name is resolved (registry, else NED) and ``--z`` alone overrides its redshift;
    - anything else (``--ra`` or ``--dec`` without the others, ``--z`` without a name) is an
      InputError.
    """
    if ra is not None or dec is not None:
        if any(v is None for v in (ra, dec, z)):
            raise InputError("--ra, --dec and --z go together: give all three")
        return cluster_from_coordinates(ra, dec, z, name=name)
    if name is None:
        if z is not None:
            raise InputError("--z alone does not say where the cluster is: give a cluster "
                             "name (its registry redshift is then replaced) or --ra/--dec/--z")
        return None
    cluster = resolve_cluster(name)
    if z is None:
        return cluster
    return Cluster(cluster.name, cluster.ra, cluster.dec, _as_float(z),
                   source=f"{cluster.source}; z from --z")


def cluster_from_coordinates(ra: str | float, dec: str | float, z: str | float,
                             name: str | None = None) -> Cluster:
    """A cluster from user coordinates: decimal degrees or sexagesimal ('12:59:48.7').

    Sexagesimal RA is read in hours, Dec in degrees.
    """
    ra_deg = _parse_angle(ra, "RA", hours_if_sexagesimal=True)
    dec_deg = _parse_angle(dec, "Dec", hours_if_sexagesimal=False)
    try:
        z_val = float(z)
    except (TypeError, ValueError):
        raise InputError(f"redshift {z!r} is not a number (e.g. --z 0.0231)") from None
    label = name or f"field_{ra_deg:.3f}{dec_deg:+.3f}"
    return Cluster(label, ra_deg, dec_deg, z_val, source="user coordinates")


def _parse_angle(value: str | float, label: str, hours_if_sexagesimal: bool) -> float:
    from astropy.coordinates import Angle

    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    unit = "hourangle" if hours_if_sexagesimal and not re.search(r"d|°", text) else "deg"
    try:
        return float(Angle(text, unit=unit).degree)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{label} {value!r} is not an angle: give decimal degrees "
                         f"(194.95) or sexagesimal ({'12:59:48.0' if hours_if_sexagesimal else '+27:58:48'})"
                         ) from exc
