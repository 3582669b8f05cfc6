"""Atomic file writes and the provenance recorded in every output file."""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A crash or exception inside the block leaves any existing file at ``path`` untouched
    and removes the temporary file. ``suffix`` defaults to the target's, so writers that
    infer the format from the extension (astropy, h5py) keep working.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=suffix or "".join(path.suffixes)
    )
    os.close(fd)
    tmp_path = Path(tmp)
    tmp_path.unlink()  # writers that refuse to overwrite get a fresh name
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def package_versions() -> dict[str, str]:
    """Versions of surveymass and the libraries whose behaviour shapes its numbers."""
    from importlib import metadata

    names = ["surveymass", "numpy", "scipy", "astropy", "astroquery", "healpy", "colossus",
             "torch", "pyro-ppl", "h5py"]
    versions = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def provenance(**extra: object) -> dict[str, object]:
    """Metadata for an output file: what produced it, when, and with which versions.

    ``extra`` adds task-specific entries (inputs, model, seeds, query...).
    """
    record: dict[str, object] = {
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]),
        "versions": package_versions(),
    }
    record.update(extra)
    return record
