"""User-facing errors.

Every failure caused by the user's input or environment (bad file, unknown cluster,
unreachable service, inconsistent config) raises a :class:`SurveymassError` whose
message says what is wrong and what to do. The command-line layer prints the message
without a traceback; anything else reaching the top is a bug.
"""


class SurveymassError(Exception):
    """An error the user can fix; the message says how."""


class InputError(SurveymassError, ValueError):
    """Bad user input: a file, a column, a coordinate, an option."""


class ServiceError(SurveymassError):
    """A remote service (SDSS, NED, VizieR) could not be reached or answered badly."""
