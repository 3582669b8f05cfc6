"""Calling remote services: retries with exponential backoff, clear errors when they fail."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TypeVar

from surveymass.errors import ServiceError

T = TypeVar("T")

#: Tries per service call and the first wait [s]; the wait doubles after each failure.
TRIES = 4
FIRST_DELAY_S = 2.0


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: connection drops, timeouts, HTTP 429 and 5xx."""
    import requests

    if isinstance(exc, requests.HTTPError):
        status = getattr(exc.response, "status_code", None)
        return status is None or status == 429 or status >= 500
    return isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError,
                            TimeoutError))


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
    library's exception) when the service keeps failing or answers with an error.
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
            if attempt == tries:
                advice = ("Check the network and try again later, or give a local catalogue "
                          "(e.g. the shipped coma_sdss)") if hint is None else hint
                raise ServiceError(f"{service} could not be reached after {tries} tries (last "
                                   f"error: {reason}). {advice}".rstrip()) from exc
        sleep(delay)
        delay *= 2
    raise ValueError(f"tries must be at least 1, got {tries}")
