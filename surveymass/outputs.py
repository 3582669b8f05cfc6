"""Where a run writes: checked before the work, replaced only when the new outputs are complete.

Every command names its outputs before it starts. :func:`check_outputs` refuses an existing
output unless ``overwrite`` is given, and an output that could not be created (a parent that
is a file or is not writable), so that hours of work cannot end in an ``OSError``.
:func:`staged_outputs` hands out temporary siblings of the outputs to write into and, when the
block succeeds, moves them all into place together; on any failure (an exception, Ctrl-C, or
SIGTERM once the command line has turned it into ``SystemExit``) it removes them and leaves the
old outputs as they were.

An output is a file path or a :class:`Folder` (written whole: a bundle, a training set, a
report), which is replaced only when it holds the file that marks what surveymass wrote there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from surveymass.errors import InputError


@dataclass(frozen=True)
class Folder:
    """A folder output written as a whole. ``marker``: the file every such folder holds
    (e.g. ``manifest.json``): a non-empty folder without it is never replaced; ``kind``:
    what the folder is, for messages."""

    path: Path
    marker: str
    kind: str


Output = str | os.PathLike | Folder


def output_path(output: Output) -> Path:
    """The path of an output (file or folder)."""
    return Path(output.path if isinstance(output, Folder) else output)


def check_outputs(outputs: Iterable[Output], overwrite: bool = False) -> None:
    """Raise :class:`InputError` unless every output can be written: its nearest existing
    parent is a writable folder, and it does not exist yet (or ``overwrite``)."""
    for output in outputs:
        path = output_path(output)
        _check_parent(path)
        if isinstance(output, Folder):
            _check_folder(output, overwrite)
        elif path.is_dir():
            raise InputError(f"{path} is a folder; give a file name for this output")
        elif path.exists() and not overwrite:
            raise InputError(f"{path} exists; choose another output name or pass --overwrite "
                             "(overwrite=True) to replace it")


def _check_parent(path: Path) -> None:
    """The nearest existing ancestor of ``path`` is a folder in which files can be created
    (tried: a probe file is created and removed)."""
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"cannot write {path}: {parent} is a file, not a folder; choose "
                         "another output location")
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".surveymass-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise InputError(f"cannot write {path}: no permission to create files in {parent} "
                         f"({exc.strerror}); choose another output location") from exc


def _check_folder(folder: Folder, overwrite: bool) -> None:
    path = folder.path
    if not path.exists():
        return
    if not path.is_dir():
        raise InputError(f"{path} is a file; the {folder.kind} is written as a folder: give "
                         "a folder name")
    if not any(path.iterdir()):
        return
    if not (path / folder.marker).exists():
        raise InputError(f"{path} holds other files and is not a {folder.kind} (no "
                         f"{folder.marker}); choose a new or empty folder (surveymass only "
                         "replaces a folder it wrote)")
    if not overwrite:
        raise InputError(f"{path} already holds a {folder.kind}; choose another folder or "
                         "pass --overwrite (overwrite=True) to replace it")


@contextlib.contextmanager
def staged_outputs(outputs: Sequence[Output], overwrite: bool = False) -> Iterator[list[Path]]:
    """Temporary paths beside ``outputs`` (same order) to write the new outputs into: files
    do not exist yet and keep the target's suffixes (for writers that infer the format),
    folders exist and are empty. When the block succeeds, all of them replace their targets
    together; otherwise they are removed and the old outputs stay as they were."""
    check_outputs(outputs, overwrite)
    targets = [output_path(o) for o in outputs]
    staging: list[Path] = []
    try:
        for output, target in zip(outputs, targets):
            target.parent.mkdir(parents=True, exist_ok=True)
            staging.append(_temporary(target, folder=isinstance(output, Folder)))
        yield staging
        with _signals_held():
            _commit(staging, targets)
    finally:
        for path in staging:
            _remove(path)


def _temporary(target: Path, folder: bool = False, tag: str = "") -> Path:
    """A fresh hidden sibling of ``target``: an empty folder, or a file name not in use."""
    prefix = f".{target.name}.{tag}"
    if folder:
        return Path(tempfile.mkdtemp(dir=target.parent, prefix=prefix))
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=prefix,
                               suffix="".join(target.suffixes))
    os.close(fd)
    os.unlink(tmp)  # writers that refuse to overwrite get a fresh name
    return Path(tmp)


def _commit(staging: list[Path], targets: list[Path]) -> None:
    """Move the old targets aside, the new ones in, then delete the old; on a failure put
    everything back as it was."""
    aside: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        for target in targets:
            if target.exists() or target.is_symlink():
                backup = _temporary(target, tag="old-")
                os.replace(target, backup)
                aside.append((target, backup))
        for tmp, target in zip(staging, targets):
            os.replace(tmp, target)
            placed.append(target)
    except OSError as exc:
        for target in placed:
            _remove(target)
        for target, backup in aside:
            os.replace(backup, target)
        raise InputError(f"could not move the new outputs into place ({exc}); the previous "
                         "outputs are unchanged") from exc
    for _, backup in aside:
        _remove(backup)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Delay SIGINT and SIGTERM while the outputs are moved into place (they arrive after)."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()
