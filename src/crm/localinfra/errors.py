"""The one exception type of the local infrastructure module."""

from __future__ import annotations


class InfraError(RuntimeError):
    """A local broker or database could not be provisioned, started or stopped.

    The message says what failed and, where there is one, ends with the tail of the tool's log.
    """
