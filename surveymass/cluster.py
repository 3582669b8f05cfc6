"""A cluster centre: the one type every layer passes around (catalogues, fetch, infer)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from surveymass.errors import InputError

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
