"""The one error type the ledger raises for anything a person can fix."""

from __future__ import annotations


class LedgerError(Exception):
    """A problem in a plan, report, units file or form, named by file and place."""

    def __init__(self, message: str, *, source: str | None = None, place: str | None = None):
        self.message = message
        self.source = source
        self.place = place
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [p for p in (self.source, self.place) if p]
        return ": ".join([*parts, self.message])

    def located(self, source: str) -> LedgerError:
        """The same error, naming the file it came from."""
        return LedgerError(self.message, source=source, place=self.place)
