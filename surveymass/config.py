"""One strict way to read a config dataclass back from its dictionary (model cards,
training-set manifests, TOML files): unknown or missing settings are refused with a message
that lists the settings, and wrong value types become an :class:`InputError`.

Writing is :func:`dataclasses.asdict` (each config's ``to_dict``); tests/test_config.py
round-trips every config type through JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TypeVar

from surveymass.errors import InputError

T = TypeVar("T")


def dataclass_from_dict(cls: type[T], data, what: str) -> T:
    """``cls(**data)`` for a dataclass ``cls``, refusing settings it does not have and
    required ones ``data`` lacks; ``what`` names the config in messages (e.g. "survey
    config sdss_legacy.toml")."""
    if not isinstance(data, Mapping):
        raise InputError(f"{what} must be a table of settings, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    missing = sorted(name for name, f in fields.items() if name not in data
                     and f.default is dataclasses.MISSING
                     and f.default_factory is dataclasses.MISSING)
    if unknown or missing:
        problems = ([f"unknown setting(s) {unknown}"] if unknown else []) + (
            [f"missing setting(s) {missing}"] if missing else [])
        raise InputError(f"{what}: {'; '.join(problems)}; the settings are {sorted(fields)}")
    try:
        return cls(**data)
    except TypeError as exc:  # a value of the wrong type inside __post_init__
        raise InputError(f"{what}: {exc}") from exc
