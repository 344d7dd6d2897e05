"""The JSON API under /api/v1 (SPEC "Fixed points"): bearer tokens, JSON errors, cases, pushes, reports and
its OpenAPI document. The blueprint and its routes live in `routes`; `create_app` registers `routes.bp`."""
