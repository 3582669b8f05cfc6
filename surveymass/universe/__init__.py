"""Simulated universes: one representation (:mod:`.store`), readers of simulation
outputs, the built-in synthetic universe, and its validation against published statistics."""

from surveymass.lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    ".store": ["GALAXY_COLUMNS", "HALO_COLUMNS", "Universe", "UniverseFile", "UniverseWriter",
               "read_universe", "write_universe"],
})
