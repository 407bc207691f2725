"""Shared by the accounts tests (a helper, not a test module): every HTTP route of the app."""

from __future__ import annotations


def http_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route of the app, included routers flattened.

    Newer FastAPI keeps included routers as one entry of `app.routes` each (their
    routes are reached through `iter_route_contexts`); the OpenAPI document is
    read as well, so that no documented route can be missed.
    """
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        entries = list(app.routes)
    else:
        entries = list(iter_route_contexts(app.routes))
    out = {
        (method, entry.path)
        for entry in entries
        for method in (getattr(entry, "methods", None) or ())
        if method != "HEAD"
    }
    verbs = {"get", "post", "put", "patch", "delete"}
    out |= {
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        for method in ops
        if method in verbs
    }
    assert ("POST", "/api/v1/complaints") in out and ("GET", "/api/v1/audit") in out
    return out
