"""Lazy imports: the one place for the machinery that lets ``surveymass --help`` and a
one-cluster ``infer`` pay only for what they use (:func:`lazy_exports` for package
re-exports).

A package ``__init__`` names what it re-exports and from which submodule; the submodule is
imported when a name is first used (PEP 562 module ``__getattr__``), so importing
``surveymass.universe.synthetic`` for its config does not build the universe machinery.
The rule for lazy imports in general is in docs/architecture.md ("Imports and start-up
time").

    from surveymass.lazy import lazy_exports

    __getattr__, __dir__, __all__ = lazy_exports(__name__, {
        ".build": ["build_universe", "build_universe_in_memory"],
        ".config": ["SyntheticConfig"],
    })
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable


def lazy_exports(package: str, exports: dict[str, list[str]]
                 ) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for the package ``package`` that re-exports
    ``exports`` (submodule, relative like ``".build"`` or absolute -> names) on first use.

    A name, once imported, is stored in the package's namespace (later look-ups are
    ordinary attribute look-ups). Unknown names raise ``AttributeError`` as usual.
    """
    source = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> object:
        if name not in source:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source[name], package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(source))

    return __getattr__, __dir__, list(source)
