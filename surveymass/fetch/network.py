"""Calling remote services: retries with exponential backoff, clear errors when they fail.

A failure that says this machine cannot reach any service (its name server or network is
unreachable, as when offline) is not retried: the error comes at once.
"""

from __future__ import annotations

import errno
import re
import socket
import time
from collections.abc import Callable
from typing import TypeVar

from surveymass.errors import ServiceError

T = TypeVar("T")

#: Tries per service call and the first wait [s]; the wait doubles after each failure.
TRIES = 4
FIRST_DELAY_S = 2.0
#: errno values of a machine without a usable network (no route at all, interface down).
NO_NETWORK_ERRNOS = frozenset({errno.ENETUNREACH, errno.ENETDOWN})


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: connection drops, timeouts, HTTP 429 and 5xx."""
    import requests

    if isinstance(exc, requests.HTTPError):
        status = getattr(exc.response, "status_code", None)
        return status is None or status == 429 or status >= 500
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError,
                            TimeoutError))


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it wraps (``__cause__``, ``__context__``, urllib3's
    ``reason``, exceptions among its ``args``), each once."""
    found: list[BaseException] = []
    stack = [exc]
    while stack:
        current = stack.pop()
        if not isinstance(current, BaseException) or any(current is f for f in found):
            continue
        found.append(current)
        stack += [current.__cause__, current.__context__, getattr(current, "reason", None),
                  *current.args]
    return found


def is_unreachable(exc: BaseException) -> bool:
    """True when no service can be reached from here: the host name did not resolve (DNS
    failure, ``socket.gaierror``) or the network is unreachable or down. Retrying such a
    failure only makes the user wait."""
    return any(isinstance(e, socket.gaierror)
               or (isinstance(e, OSError) and e.errno in NO_NETWORK_ERRNOS)
               for e in _chain(exc))


def describe(exc: BaseException, limit: int = 160) -> str:
    """A one-line reason: the exception type and the root cause of a connection error."""
    text = str(exc)
    cause = re.search(r"Caused by \w+\(.*?: (.*?)[\"']?\)+$", text)
    text = cause.group(1) if cause else text
    return f"{type(exc).__name__}: {text[:limit]}{'...' if len(text) > limit else ''}"


def with_retries(call: Callable[[], T], service: str, tries: int = TRIES,
                 first_delay_s: float = FIRST_DELAY_S,
                 sleep: Callable[[float], None] | None = None, hint: str | None = None) -> T:
    """Run ``call()``; retry transient failures ``tries`` times in all, waiting
    ``first_delay_s``, then twice as long each time. Raises ServiceError (never the
    library's exception) when the service keeps failing or answers with an error, and at
    the first try when the network is unreachable (:func:`is_unreachable`).
    ``sleep`` defaults to time.sleep; ``hint`` replaces the advice ending the error
    messages (by default: other sources, a local catalogue)."""
    sleep = sleep or time.sleep
    delay = first_delay_s
    for attempt in range(1, tries + 1):
        try:
            return call()
        except Exception as exc:  # classified below; no library exception reaches the user
            reason = describe(exc)
            if not is_transient(exc):
                advice = ("Try again later, or use --sources to query the other service, or "
                          "give a local catalogue instead") if hint is None else hint
                raise ServiceError(f"{service} answered with an error ({reason}). "
                                   f"{advice}".rstrip()) from exc
            unreachable = is_unreachable(exc)
            if attempt == tries or unreachable:
                advice = ("Check the network and try again later, or give a local catalogue "
                          "(e.g. the shipped coma_sdss)") if hint is None else hint
                tried = (f"{attempt} {'try' if attempt == 1 else 'tries'}"
                         + ("; the network or its name server is unreachable, so it was not "
                            "retried" if unreachable else ""))
                raise ServiceError(f"{service} could not be reached after {tried} (last "
                                   f"error: {reason}). {advice}".rstrip()) from exc
        sleep(delay)
        delay *= 2
    raise ValueError(f"tries must be at least 1, got {tries}")
