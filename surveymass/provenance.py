"""Atomic file writes and the provenance recorded in every output file."""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import hashlib
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from surveymass import __version__
from surveymass.outputs import staged_outputs


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A crash or exception inside the block leaves any existing file at ``path`` untouched
    and removes the temporary file; the temporary keeps the target's suffixes, so writers
    that infer the format from the extension (astropy, h5py) keep working. For several
    outputs that must appear together, or must not replace old ones, see
    :func:`surveymass.outputs.staged_outputs`.
    """
    with staged_outputs([path], overwrite=True) as (tmp,):
        yield tmp


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes: the checksum every file a bundle records carries."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of surveymass and the libraries whose behaviour shapes its numbers."""
    from importlib import metadata

    names = ["surveymass", "numpy", "scipy", "astropy", "astropy-healpix", "astroquery",
             "healpy", "colossus", "torch", "pyro-ppl", "h5py"]  # healpy: footprint builds
    versions = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


@functools.lru_cache(maxsize=1)
def git_state() -> dict[str, object]:
    """``{"commit": SHA, "dirty": bool}`` of the source checkout the package runs from
    (tracked files only; read once per process); empty when not run from a git checkout
    or git is unavailable."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return {}
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                  text=True, timeout=5, check=True).stdout.strip()

        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {}
    return {"commit": commit, "dirty": dirty} if commit else {}


def provenance(**extra: object) -> dict[str, object]:
    """Metadata for an output file: what produced it, when, with which versions and (from
    a git checkout) which commit.

    ``extra`` adds task-specific entries (inputs, model, seeds, query...).
    """
    record: dict[str, object] = {
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]),
        "versions": package_versions(),
    }
    if git_state():
        record["git"] = dict(git_state())
    record.update(extra)
    return record


def png_metadata(**extra: object) -> dict[str, str]:
    """PNG text chunks for ``savefig(..., metadata=png_metadata())``: ``Software``
    (surveymass version and commit) and ``Source`` (the provenance record as JSON)."""
    git = git_state()
    software = f"surveymass {__version__}"
    if git:
        software += f" (git {git['commit'][:12]}{', dirty' if git['dirty'] else ''})"
    return {"Software": software, "Source": json.dumps(provenance(**extra), default=str)}


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 110,
                bbox_inches: str | None = None, provenance_extra: dict | None = None) -> Path:
    """Write a matplotlib figure atomically, with the provenance record in PNG files
    (``provenance_extra`` adds entries to it), and close it. Returns ``path``."""
    import matplotlib.pyplot as plt

    path = Path(path)
    png = path.suffix.lower() == ".png"  # other formats take other metadata keys
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches=bbox_inches,
                    metadata=png_metadata(**(provenance_extra or {})) if png else None)
    plt.close(fig)
    return path
