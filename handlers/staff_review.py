"""/review: accepting a unit's submission, or returning it (or one task) with a comment.

Thin: the rules, and the check that the person is staff, live in storage.services.
"""

from __future__ import annotations

from handlers.routes import Routes

router = Routes("staff_review")
