"""Progress bars: the one place that decides when a bar is shown."""

from __future__ import annotations

from collections.abc import Iterable

from tqdm.auto import tqdm

__all__ = ["progress_bar"]


def progress_bar(iterable: Iterable | None = None, *, quiet: bool = False, **kwargs) -> tqdm:
    """A ``tqdm`` bar over ``iterable`` (or a manual one), hidden when ``quiet`` and when
    its stream is not a terminal (``disable=None``). ``kwargs`` go to ``tqdm``."""
    return tqdm(iterable, disable=True if quiet else None, **kwargs)
