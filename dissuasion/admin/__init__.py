"""The admin's pages: users and the precinct directory."""
