"""One in-memory and on-disk representation of a simulated universe snapshot.

On disk (HDF5, ``format = "surveymass-universe"``)::

    /            attrs: format, version, redshift, box_size [h^-1 Mpc], cosmology (JSON),
                        config (JSON: every parameter that made it), provenance (JSON)
    /halos/<column>      1-D chunked datasets, one per column of HALO_COLUMNS
    /galaxies/<column>   1-D chunked datasets, one per column of GALAXY_COLUMNS

Columns are plain arrays so that a box far larger than memory can be written chunk by
chunk (:class:`UniverseWriter`) and read chunk by chunk (:meth:`UniverseFile.iter_chunks`).
Positions are comoving h^-1 Mpc in [0, box_size); velocities are peculiar km/s; masses
h^-1 Msun; magnitudes are absolute, M_r - 5 log10 h.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import h5py
import numpy as np

from surveymass.cosmology import cosmology_from_dict, cosmology_to_dict
from surveymass.errors import InputError
from surveymass.outputs import check_outputs, staged_outputs
from surveymass.provenance import provenance

if TYPE_CHECKING:
    from astropy.cosmology import FLRW

FORMAT = "surveymass-universe"
VERSION = 1

#: name -> (dtype, unit, description)
HALO_COLUMNS: dict[str, tuple[str, str, str]] = {
    "halo_id": ("i8", "", "unique halo id"),
    "m200c": ("f8", "Msun/h", "mass within 200 x critical density"),
    "r200c": ("f4", "Mpc/h", "comoving radius enclosing 200 x critical density"),
    "concentration": ("f4", "", "NFW concentration r200c / r_s"),
    "x": ("f4", "Mpc/h", "comoving position"),
    "y": ("f4", "Mpc/h", "comoving position"),
    "z": ("f4", "Mpc/h", "comoving position"),
    "vx": ("f4", "km/s", "peculiar velocity"),
    "vy": ("f4", "km/s", "peculiar velocity"),
    "vz": ("f4", "km/s", "peculiar velocity"),
}

GALAXY_COLUMNS: dict[str, tuple[str, str, str]] = {
    "galaxy_id": ("i8", "", "unique galaxy id"),
    "host_id": ("i8", "", "halo_id of the host halo"),
    "is_central": ("?", "", "central galaxy of its host"),
    "x": ("f4", "Mpc/h", "comoving position"),
    "y": ("f4", "Mpc/h", "comoving position"),
    "z": ("f4", "Mpc/h", "comoving position"),
    "vx": ("f4", "km/s", "peculiar velocity"),
    "vy": ("f4", "km/s", "peculiar velocity"),
    "vz": ("f4", "km/s", "peculiar velocity"),
    "mag_r": ("f4", "mag", "absolute r-band magnitude M_r - 5 log10 h (z=0.1 bandpass)"),
    "color_gr": ("f4", "mag", "rest-frame g - r colour"),
    "quiescent": ("?", "", "not star forming (red sequence)"),
}

_TABLES = {"halos": HALO_COLUMNS, "galaxies": GALAXY_COLUMNS}
_CHUNK = 1 << 20


@dataclass
class Universe:
    """A snapshot held in memory: column arrays of halos and galaxies plus metadata."""

    cosmology: FLRW
    redshift: float
    box_size: float
    halos: dict[str, np.ndarray]
    galaxies: dict[str, np.ndarray]
    config: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)

    @property
    def n_halos(self) -> int:
        return len(self.halos["halo_id"])

    @property
    def n_galaxies(self) -> int:
        return len(self.galaxies["galaxy_id"])

    def validate(self) -> None:
        """Raise :class:`InputError` if columns are missing or host links are broken."""
        for table, spec in _TABLES.items():
            check_columns(table, getattr(self, table), spec)
        missing = ~np.isin(self.galaxies["host_id"], self.halos["halo_id"])
        if missing.any():
            raise InputError(f"{int(missing.sum())} galaxies name a host halo that is not in "
                             f"the halo table (first host_id: "
                             f"{self.galaxies['host_id'][missing][0]}); the catalogue is "
                             "inconsistent or was cut without its hosts")


def check_columns(table: str, columns: dict[str, np.ndarray], spec: dict) -> None:
    """Raise :class:`InputError` unless ``columns`` has every column of ``spec``, all of one
    length and finite."""
    missing = [name for name in spec if name not in columns]
    if missing:
        raise InputError(f"{table} table lacks column(s) {missing}; expected {list(spec)}")
    lengths = {len(columns[name]) for name in spec}
    if len(lengths) > 1:
        raise InputError(f"{table} columns have different lengths {sorted(lengths)}")
    for name, (dtype, _, _) in spec.items():
        if dtype.startswith("f") and not np.all(np.isfinite(columns[name])):
            raise InputError(f"{table} column {name!r} holds NaN or infinite values")


class UniverseWriter:
    """Write a universe chunk by chunk (for catalogues larger than memory).

    Use as a context manager; the file appears at ``path`` only when the block succeeds.
    The output is checked on construction, before any work: an existing file is replaced
    only with ``overwrite``.
    """

    def __init__(self, path: str | Path, cosmology: FLRW, redshift: float, box_size: float,
                 config: dict | None = None, source: dict | None = None,
                 overwrite: bool = False):
        """``config``: the parameters that made the universe; ``source``: provenance entries
        (input files, seeds) added to the standard record."""
        if not box_size > 0:
            raise InputError(f"box_size must be positive, got {box_size}")
        self._target = Path(path)
        check_outputs([self._target], overwrite)
        self._atomic = staged_outputs([self._target], overwrite)
        self._meta = dict(redshift=float(redshift), box_size=float(box_size),
                          cosmology=json.dumps(cosmology_to_dict(cosmology)),
                          config=json.dumps(config or {}),
                          provenance=json.dumps(provenance(**(source or {}))))

    def __enter__(self) -> "UniverseWriter":
        (tmp,) = self._atomic.__enter__()
        self._file = h5py.File(tmp, "w")
        self._file.attrs.update(format=FORMAT, version=VERSION, **self._meta)
        for table, spec in _TABLES.items():
            group = self._file.create_group(table)
            for name, (dtype, unit, doc) in spec.items():
                ds = group.create_dataset(name, shape=(0,), maxshape=(None,), dtype=dtype,
                                          chunks=(min(_CHUNK, 1 << 16),))
                ds.attrs.update(unit=unit, description=doc)
        return self

    def append(self, table: str, columns: dict[str, np.ndarray]) -> None:
        """Append rows to ``"halos"`` or ``"galaxies"``; every column must be given."""
        spec = _TABLES[table]
        check_columns(table, columns, spec)
        group = self._file[table]
        for name in spec:
            values = np.asarray(columns[name])
            ds = group[name]
            start = ds.shape[0]
            ds.resize((start + len(values),))
            ds[start:] = values

    def update_config(self, config: dict) -> None:
        """Replace the recorded config (e.g. with counts known only after streaming)."""
        self._file.attrs["config"] = json.dumps(config)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._file.close()
        self._atomic.__exit__(exc_type, exc, tb)


def write_universe(universe: Universe, path: str | Path, overwrite: bool = False) -> None:
    """Write an in-memory universe to ``path`` atomically (an existing file only with
    ``overwrite``)."""
    universe.validate()
    with UniverseWriter(path, universe.cosmology, universe.redshift, universe.box_size,
                        universe.config, source=universe.provenance,
                        overwrite=overwrite) as writer:
        writer.append("halos", universe.halos)
        writer.append("galaxies", universe.galaxies)


class UniverseFile:
    """Read-only access to a universe on disk, whole or in chunks."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.exists():
            raise InputError(f"universe file {self.path} does not exist")
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as exc:
            raise InputError(f"{self.path} is not an HDF5 file ({exc}); give a file written "
                             "by 'surveymass universe'") from exc
        attrs = self._file.attrs
        if attrs.get("format") != FORMAT:
            self._file.close()
            raise InputError(f"{self.path} is not a surveymass universe (format attribute "
                             f"{attrs.get('format')!r}); convert simulation outputs with the "
                             "readers in surveymass.universe.readers")
        if int(attrs["version"]) != VERSION:
            self._file.close()
            raise InputError(f"{self.path} has universe format version {attrs['version']}, "
                             f"this surveymass reads version {VERSION}; rebuild it")
        self.redshift = float(attrs["redshift"])
        self.box_size = float(attrs["box_size"])
        self.cosmology = cosmology_from_dict(json.loads(attrs["cosmology"]))
        self.config = json.loads(attrs["config"])
        self.provenance = json.loads(attrs["provenance"])

    def __enter__(self) -> "UniverseFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def __len__(self) -> int:
        return self.count("galaxies")

    def count(self, table: str) -> int:
        """Number of rows in ``"halos"`` or ``"galaxies"``."""
        return self._file[table][next(iter(_TABLES[table]))].shape[0]

    def read(self, table: str, columns: list[str] | None = None,
             start: int = 0, stop: int | None = None) -> dict[str, np.ndarray]:
        """Rows ``start:stop`` of the named columns (all by default) of a table."""
        names = columns or list(_TABLES[table])
        unknown = set(names) - set(_TABLES[table])
        if unknown:
            raise InputError(f"unknown {table} column(s) {sorted(unknown)}")
        return {name: self._file[table][name][start:stop] for name in names}

    def iter_chunks(self, table: str, columns: list[str] | None = None,
                    chunk_size: int = _CHUNK) -> Iterator[dict[str, np.ndarray]]:
        """Yield the table in chunks of at most ``chunk_size`` rows (bounded memory)."""
        n = self.count(table)
        for start in range(0, n, chunk_size):
            yield self.read(table, columns, start, min(start + chunk_size, n))

    def load(self) -> Universe:
        """The whole universe in memory."""
        return Universe(cosmology=self.cosmology, redshift=self.redshift,
                        box_size=self.box_size, halos=self.read("halos"),
                        galaxies=self.read("galaxies"), config=self.config,
                        provenance=self.provenance)


def read_universe(path: str | Path) -> Universe:
    """Load a whole universe file into memory."""
    with UniverseFile(path) as f:
        return f.load()
