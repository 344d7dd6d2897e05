"""In-app notifications: case assigned, overdue, follow-up due, new warning on my case."""
