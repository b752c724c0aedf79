"""/export: the consolidated ledger, a unit's form, the archive, as documents in the chat.

Thin: the rules, and the check that the person is staff, live in storage.services.
"""

from __future__ import annotations

from handlers.routes import Routes

router = Routes("staff_export")
