"""The web channel: the contact's report form on a phone browser (and, later, the office's
console). Like handlers/, it only turns requests into calls of storage's services and their
results into pages; it imports storage and ledger, never handlers or bot."""
