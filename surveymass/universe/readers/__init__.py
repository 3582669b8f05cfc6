"""Readers of simulation outputs into the surveymass universe format (:mod:`..store`).

Formats (``detect_format`` tells them apart by content):

- ``uchuu-um``: Uchuu-UniverseMachine HDF5 (``*_data1.h5`` + data2, data3), optionally
  with the Uchuu Rockstar HDF5 halo catalogue for M200c (:mod:`.uchuu`);
- ``um-ascii``: UniverseMachine DR1 ASCII catalogues (:mod:`.uchuu`, same conversion);
- ``hlist``: Rockstar / Consistent-Trees ASCII halo catalogues, halos only (:mod:`.hlist`).

Every reader streams its input in chunks (bounded memory, see :mod:`.common`) and writes
atomically through :class:`~surveymass.universe.store.UniverseWriter`, recording the
conversion parameters and drop counts in the universe's config.
"""

from __future__ import annotations

from pathlib import Path

from surveymass.errors import InputError
from surveymass.universe.readers.common import DEFAULT_CHUNK_SIZE
from surveymass.universe.readers.hlist import HlistFile, convert_hlist, read_hlist_header
from surveymass.universe.readers.luminosity import MassToLight, galaxy_photometry
from surveymass.universe.readers.uchuu import (
    RockstarHaloCatalogue,
    UchuuUMFiles,
    convert_uchuu_um,
    convert_um_ascii,
)

FORMATS = ("uchuu-um", "um-ascii", "hlist")
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def detect_format(path: str | Path) -> str:
    """``uchuu-um``, ``um-ascii`` or ``hlist`` from the file's content; raise
    :class:`InputError` for anything else."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file {path} does not exist")
    with open(path, "rb") as f:
        start = f.read(512)
    if start.startswith(_HDF5_SIGNATURE):
        if "_data1.h5" in path.name:
            return "uchuu-um"
        raise InputError(f"{path} is HDF5 but not a Uchuu-UM data1 file ('*_data1.h5'); give "
                         "the data1 file (a Rockstar halo catalogue goes to --halo-catalogue)")
    first = start.split(b"\n", 1)[0].decode("ascii", errors="replace")
    names = first.lstrip("#").split()
    if first.startswith("#") and names[:2] == ["ID", "UPID"]:
        return "um-ascii"
    if first.startswith("#") and any(n.lower().startswith(("id(", "upid(", "pid(")) or
                                     n.lower() in ("id", "pid", "upid") for n in names):
        return "hlist"
    raise InputError(f"{path} is neither a Uchuu-UM HDF5 file, a UniverseMachine ASCII "
                     "catalogue ('#ID UPID ...' header) nor a Rockstar/Consistent-Trees hlist "
                     "('#scale(0) id(1) ...' header)")


__all__ = ["DEFAULT_CHUNK_SIZE", "FORMATS", "HlistFile", "MassToLight",
           "RockstarHaloCatalogue", "UchuuUMFiles", "convert_hlist", "convert_uchuu_um",
           "convert_um_ascii", "detect_format", "galaxy_photometry", "read_hlist_header"]
