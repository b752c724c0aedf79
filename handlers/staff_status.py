"""/status: a round's status — who has reported, per unit kind and per task, the chart,
one unit's answers, and nudges.

Thin: the rules, and the check that the person is staff, live in storage.services.
"""

from __future__ import annotations

from handlers.routes import Routes

router = Routes("staff_status")
