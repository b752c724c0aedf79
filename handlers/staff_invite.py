"""/invite: a unit's invite link and QR code, its contacts and invites, revoking.

Thin: the rules, and the check that the person is staff, live in storage.services.
"""

from __future__ import annotations

from handlers.routes import Routes

router = Routes("staff_invite")
