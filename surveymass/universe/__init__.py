"""Simulated universes: one representation (:mod:`.store`), readers of simulation
outputs, the built-in synthetic universe, and its validation against published statistics."""

from surveymass.universe.store import (
    GALAXY_COLUMNS,
    HALO_COLUMNS,
    Universe,
    UniverseFile,
    UniverseWriter,
    read_universe,
    write_universe,
)

__all__ = ["GALAXY_COLUMNS", "HALO_COLUMNS", "Universe", "UniverseFile", "UniverseWriter",
           "read_universe", "write_universe"]
