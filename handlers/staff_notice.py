"""The 通报 of late units, sent as a Word document from the status screen.

Thin: the rules, and the check that the person is staff, live in storage.services.
"""

from __future__ import annotations

from handlers.routes import Routes

router = Routes("staff_notice")
