"""`UsageError`: a mistake on the command line, reported as one paragraph and exit status 2."""

from __future__ import annotations

from polyfn._errors import PolyfnError


class UsageError(PolyfnError):
    """What the user typed cannot work: an APP that does not import, an unknown function, an
    event file that is not JSON. The message says what is wrong and what to do instead."""
