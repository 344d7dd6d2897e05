"""Cross-cutting pages: the home redirect, the health check, error pages and template filters."""
