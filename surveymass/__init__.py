"""surveymass: galaxy-cluster dynamical masses from the motions of their galaxies.

The package follows the pipeline in docs/architecture.md: survey data or a simulated
universe -> sky field -> projected phase space -> features -> interloper classifier ->
M-sigma baseline -> mass posterior (Deep Sets + conditional spline flow).
"""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("surveymass")  # one source: pyproject.toml
except _metadata.PackageNotFoundError:  # run from a source tree that is not installed
    __version__ = "0+unknown"

from surveymass.errors import SurveymassError  # noqa: E402
from surveymass.lazy import lazy_exports  # noqa: E402

__getattr__, __dir__, _LAZY = lazy_exports(__name__, {
    ".phasespace": ["PhaseSpace", "sky_to_phase_space"],
})
__all__ = ["SurveymassError", "__version__", *_LAZY]
