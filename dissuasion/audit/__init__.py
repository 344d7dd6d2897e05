"""The audit trail: every login, import, change to a case and view of a full ID or phone number."""
