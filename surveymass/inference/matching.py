"""How a result is matched to a reference cluster (``surveymass compare``): a light
dataclass, so that ``compare --help`` shows its defaults without importing astropy."""

from __future__ import annotations

from dataclasses import dataclass

from surveymass.errors import InputError


@dataclass(frozen=True)
class MatchWindow:
    """How close a reference cluster must be to count as the same cluster.

    max_separation: projected, comoving h^-1 Mpc at our cluster's redshift;
    max_dv: |rest-frame line-of-sight velocity difference| [km/s].
    """

    max_separation: float = 1.0
    max_dv: float = 1500.0

    def __post_init__(self) -> None:
        if not (self.max_separation > 0 and self.max_dv > 0):
            raise InputError("the match window needs a positive separation [h^-1 Mpc] "
                             f"and velocity [km/s], got {self.max_separation}, {self.max_dv}")
