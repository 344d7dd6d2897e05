"""Users, roles, login, and the scoping of every case query to what the user may see."""
