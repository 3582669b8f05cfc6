"""Nuisance parameters of the galaxy-halo connection and their prior.

A :class:`GalaxyHaloPrior` holds one uniform range (low, high) per parameter of
:data:`PARAMETERS`; mock fields draw one value of each per field
(:meth:`GalaxyHaloPrior.draw`) and repaint the target halo's satellites with them
(:func:`galaxy_halo_config`, :mod:`surveymass.mocks.fields`). The default ranges and their
sources are in docs/synthetic_universe.md ("Galaxy-halo nuisance parameters").
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from surveymass.errors import InputError
from surveymass.universe.synthetic.config import SyntheticConfig


@dataclass(frozen=True)
class Parameter:
    """One nuisance parameter: its unit, meaning, physical bounds (open at ``lowest`` /
    ``highest`` unless ``closed``) and default prior range."""

    unit: str
    meaning: str
    lowest: float
    highest: float
    default: tuple[float, float]
    closed: bool = False

    def allows(self, value: float) -> bool:
        if self.closed:
            return self.lowest <= value <= self.highest
        return self.lowest < value < self.highest


#: name -> Parameter. Columns of the training set are ``nuis_`` + name.
PARAMETERS: dict[str, Parameter] = {
    "log_nsat_scatter": Parameter(
        "dex", "intrinsic log-normal scatter of the satellite number at fixed mass (one "
        "factor per halo, mean-preserving)", 0.0, 1.0, (0.08, 0.30), closed=True),
    "log_nsat_offset": Parameter(
        "dex", "offset of the satellite CLF normalisation phi_s* at every mass", -1.0, 1.0,
        (-0.15, 0.30)),
    "nsat_slope": Parameter(
        "", "d log phi_s* / d log M above the cluster pivot mass", 0.0, 2.0, (0.75, 1.15),
        closed=True),
    "log_lstar_offset": Parameter(
        "dex", "offset of the satellite luminosity scale log L_s*", -0.5, 0.5, (-0.1, 0.1)),
    "alpha_s": Parameter(
        "", "faint-end slope of the satellite CLF", -2.0, 0.0, (-1.35, -1.0)),
    "conc_ratio": Parameter(
        "", "satellite NFW concentration / the dark matter's", 0.1, 5.0, (0.5, 1.3)),
    "outer_fraction": Parameter(
        "", "fraction of satellites on the extended outer profile", 0.0, 0.8, (0.0, 0.3),
        closed=True),
    "outer_extent": Parameter(
        "R200c", "outer radius of the extended profile", 1.0, 5.0, (2.0, 2.5), closed=True),
    "velocity_bias": Parameter(
        "", "satellite velocity dispersion / the Jeans dispersion", 0.3, 2.0, (0.9, 1.1)),
    "anisotropy": Parameter(
        "", "constant orbital anisotropy beta = 1 - sigma_t^2 / sigma_r^2", -1.0, 0.9,
        (0.0, 0.5), closed=True),
}

#: Prefix of the training-set columns holding the drawn values.
COLUMN_PREFIX = "nuis_"
#: Column with each field's realised log-normal satellite-number deviate [dex].
DEVIATE_COLUMN = COLUMN_PREFIX + "log_nsat_dev"


def _default_ranges() -> dict[str, tuple[float, float]]:
    return {name: p.default for name, p in PARAMETERS.items()}


@dataclass(frozen=True)
class GalaxyHaloPrior:
    """Uniform prior ranges (low, high) of the galaxy-halo nuisance parameters
    (:data:`PARAMETERS`; names missing from ``ranges`` take the default range). A range
    with low == high fixes that parameter."""

    ranges: dict[str, tuple[float, float]] = field(default_factory=_default_ranges)

    def __post_init__(self) -> None:
        if not isinstance(self.ranges, dict):
            raise InputError("galaxy-halo prior ranges must be a mapping name -> (low, high)")
        unknown = sorted(set(self.ranges) - set(PARAMETERS))
        if unknown:
            raise InputError(f"unknown galaxy-halo parameter(s) {unknown}; the parameters "
                             f"are {sorted(PARAMETERS)}")
        full = {**_default_ranges(), **self.ranges}
        problems = [p for name, bounds in full.items() if (p := _range_problem(name, bounds))]
        if problems:
            raise InputError("galaxy-halo prior is invalid: " + "; ".join(problems))
        object.__setattr__(self, "ranges", {name: tuple(float(b) for b in full[name])
                                            for name in PARAMETERS})

    def draw(self, rng: np.random.Generator) -> dict[str, float]:
        """One value of every parameter, uniform in its range (fixed ranges draw nothing
        different but still advance ``rng`` by one number each)."""
        return {name: float(lo + (hi - lo) * rng.random())
                for name, (lo, hi) in self.ranges.items()}

    def percentile(self, name: str, q: float) -> float:
        """The ``q``-th percentile (0-100) of parameter ``name``."""
        if name not in PARAMETERS:
            raise InputError(f"unknown galaxy-halo parameter {name!r}; the parameters are "
                             f"{sorted(PARAMETERS)}")
        if not 0 <= q <= 100:
            raise InputError(f"percentile must be in [0, 100], got {q}")
        lo, hi = self.ranges[name]
        return lo + (hi - lo) * q / 100.0

    def fixed(self, values: dict[str, float] | None = None) -> GalaxyHaloPrior:
        """Every parameter fixed: at ``values`` where given (each inside this prior's
        range), at the centre of its range otherwise."""
        values = values or {}
        unknown = sorted(set(values) - set(PARAMETERS))
        if unknown:
            raise InputError(f"unknown galaxy-halo parameter(s) {unknown}; the parameters "
                             f"are {sorted(PARAMETERS)}")
        outside = [f"{name}={v:g} is outside the prior range [{self.ranges[name][0]:g}, "
                   f"{self.ranges[name][1]:g}]" for name, v in values.items()
                   if not self.ranges[name][0] <= v <= self.ranges[name][1]]
        if outside:
            raise InputError("fixed galaxy-halo values must lie inside the prior: "
                             + "; ".join(outside))
        return GalaxyHaloPrior({name: (values.get(name, 0.5 * (lo + hi)),) * 2
                                for name, (lo, hi) in self.ranges.items()})

    def to_dict(self) -> dict[str, list[float]]:
        return {name: list(bounds) for name, bounds in self.ranges.items()}

    @classmethod
    def from_dict(cls, data: dict) -> GalaxyHaloPrior:
        if not isinstance(data, dict):
            raise InputError("a galaxy-halo prior must be a table of name = [low, high]")
        return cls(dict(data))

    @classmethod
    def from_toml(cls, path: str | Path) -> GalaxyHaloPrior:
        """A prior from a TOML file of ``name = [low, high]`` lines (optionally under a
        ``[galaxy_halo]`` table); parameters not named take the default range."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"galaxy-halo prior file {path} does not exist")
        try:
            data = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} is not valid TOML ({exc})") from exc
        return cls.from_dict(data.get("galaxy_halo", data))


def _range_problem(name: str, bounds) -> str | None:
    """Why ``bounds`` is not a valid range of parameter ``name`` (None when it is)."""
    p = PARAMETERS[name]
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        return f"{name} needs a range [low, high], got {bounds!r}"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{name} range [{lo:g}, {hi:g}] is not finite"
    if lo > hi:
        return f"{name} range [{lo:g}, {hi:g}] is inverted (low > high)"
    if not (p.allows(lo) and p.allows(hi)):
        edge = "[]" if p.closed else "()"
        return (f"{name} range [{lo:g}, {hi:g}] leaves the physical range "
                f"{edge[0]}{p.lowest:g}, {p.highest:g}{edge[1]} ({p.meaning})")
    return None


def galaxy_halo_config(config: SyntheticConfig, values: dict[str, float]) -> SyntheticConfig:
    """``config`` with its galaxy-halo parameters replaced by nuisance ``values`` (offsets
    relative to the config's own normalisation and luminosity scale)."""
    return dataclasses.replace(
        config,
        clf_satellite_scatter_dex=values["log_nsat_scatter"],
        clf_b0=config.clf_b0 + values["log_nsat_offset"],
        clf_satellite_slope=values["nsat_slope"],
        clf_satellite_l_ratio=config.clf_satellite_l_ratio * 10 ** values["log_lstar_offset"],
        clf_alpha_s=values["alpha_s"],
        satellite_concentration_ratio=values["conc_ratio"],
        satellite_outer_fraction=values["outer_fraction"],
        satellite_outer_extent=values["outer_extent"],
        satellite_velocity_bias=values["velocity_bias"],
        satellite_anisotropy=values["anisotropy"],
    )


def load_prior(spec: str, fixed: list[str] | None = None) -> GalaxyHaloPrior | None:
    """The prior named by ``spec`` ("default", "none" or a TOML file of ranges), with every
    parameter fixed when ``fixed`` holds ``name=value`` or ``name=pNN`` (NN-th percentile)
    items (:meth:`GalaxyHaloPrior.fixed`; unnamed parameters at their range's centre)."""
    if spec == "none":
        if fixed:
            raise InputError("fixed galaxy-halo values need a prior to lie in: use "
                             "--galaxy-halo default (or a prior file) with them")
        return None
    prior = GalaxyHaloPrior() if spec == "default" else GalaxyHaloPrior.from_toml(spec)
    if not fixed:
        return prior
    values = {}
    for item in fixed:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        try:
            value = (prior.percentile(name, float(text[1:])) if text.startswith("p")
                     else float(text))
        except ValueError:
            value = None
        if not sep or value is None:
            raise InputError(f"fixed galaxy-halo value {item!r} must read name=VALUE or "
                             "name=pNN (the NN-th percentile of the prior)")
        values[name] = value
    return prior.fixed(values)
