"""Command-line options shared by several commands: the cluster given as a name or as
``--ra/--dec/--z``."""

from __future__ import annotations

import re

from surveymass.cluster import Cluster
from surveymass.errors import InputError
from surveymass.registry import resolve_cluster


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
    return Cluster(cluster.name, cluster.ra, cluster.dec, z, source=f"{cluster.source}; z from --z")


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
