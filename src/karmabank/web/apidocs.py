"""GET /docs: the API reference as one page rendered on the server from the app's own OpenAPI
description (`app.openapi()`), in the dashboard's look: no script, nothing fetched from
elsewhere, so it works with no internet and under the strict Content-Security-Policy.

Each operation shows its method and path, what it does, its parameters, its request body's
fields, its answers, and the roles that may call it, read from the route's `Requires`
dependency (the same object that answers 403), so the page cannot drift from the code.
Like /openapi.json, the page is public: it describes the API, it reads no data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from karmabank.actions.accounts import Permission, Role, may
from karmabank.web.security import CSRF_HEADER, SESSION_COOKIE, Requires

REF = "#/components/schemas/"


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    description: str
    schema: str | None = None  # a named schema the type refers to (linked on the page)
    where: str = ""  # a parameter's place: path, query, header


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    anchor: str
    description: str
    roles: str
    params: list[Field]
    body: str | None  # the request body's schema name
    body_fields: list[Field]
    returns: Field | None  # the success answer's type
    responses: list[tuple[str, str]]  # (status code, what it means)


@dataclass
class Tag:
    name: str
    operations: list[Operation] = field(default_factory=list)


@dataclass(frozen=True)
class Schema:
    name: str
    fields: list[Field]


def _permission(dependant: Dependant) -> Permission | None:
    for dep in dependant.dependencies:
        if isinstance(dep.call, Requires):
            return dep.call.permission
        found = _permission(dep)
        if found is not None:
            return found
    return None


def roles_for(permission: Permission | None) -> str:
    """Who may call an operation needing `permission`, as a phrase."""
    if permission is None:
        return "anyone (no login)"
    allowed = [r.value for r in reversed(Role) if may(r, permission)]
    if len(allowed) == len(Role):
        return "any role (" + ", ".join(allowed) + ")"
    return " or ".join(allowed)


def _permissions() -> dict[tuple[str, str], Permission | None]:
    """(METHOD, OpenAPI path) -> the permission its route requires (the routes of `api`, the
    one router in the schema; FastAPI keeps included routers wrapped in `app.routes`)."""
    from karmabank.web.api import router

    found: dict[tuple[str, str], Permission | None] = {}
    for route in router.routes:
        if isinstance(route, APIRoute) and route.include_in_schema:
            for method in route.methods or ():
                found[(method, route.path_format)] = _permission(route.dependant)
    return found


def type_of(schema: dict[str, Any]) -> tuple[str, str | None]:
    """A schema as a short type (`string`, `integer ≥ 1`, `list of PersonRef`, `"in" | "give"`,
    `string | null`) and the named schema it refers to, if any."""
    if "$ref" in schema:
        name = str(schema["$ref"]).removeprefix(REF)
        return name, name
    if "anyOf" in schema:
        parts = [type_of(s) for s in schema["anyOf"]]
        return " | ".join(t for t, _ in parts), next((n for _, n in parts if n), None)
    if "enum" in schema:
        return " | ".join(f'"{v}"' if isinstance(v, str) else str(v) for v in schema["enum"]), None
    kind = str(schema.get("type", "any"))
    if kind == "array":
        inner, ref = type_of(schema.get("items", {}))
        return f"list of {inner}", ref
    if kind == "object" and "additionalProperties" in schema:
        return "object", None
    bounds = [
        f"{sign} {schema[key]:g}" if isinstance(schema[key], float) else f"{sign} {schema[key]}"
        for key, sign in (("minimum", "≥"), ("maximum", "≤"))
        if key in schema
    ]
    if "maxLength" in schema:
        bounds.append(f"≤ {schema['maxLength']} characters")
    return kind + (f" ({', '.join(bounds)})" if bounds else ""), None


def _fields(schema: dict[str, Any]) -> list[Field]:
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema.get("properties", {}).items():
        kind, ref = type_of(prop)
        out.append(Field(name, kind, name in required, str(prop.get("description", "")), ref))
    return out


def _success(responses: dict[str, Any]) -> Field | None:
    for code, answer in responses.items():
        if code.startswith("2"):
            schema = answer.get("content", {}).get("application/json", {}).get("schema")
            if schema is None:
                return None
            kind, ref = type_of(schema)
            return Field(code, kind, True, str(answer.get("description", "")), ref)
    return None


def _operations(spec: dict[str, Any]) -> Iterable[tuple[str, Operation]]:
    permissions = _permissions()
    schemas = spec.get("components", {}).get("schemas", {})
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            params = []
            for p in op.get("parameters", []):
                kind, ref = type_of(p.get("schema", {}))
                params.append(Field(p["name"], kind, bool(p.get("required")),
                                    str(p.get("description", "")), ref, p["in"]))  # fmt: skip
            body, body_fields = None, []
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content is not None:
                body, _ = type_of(content["schema"])
                body_fields = _fields(schemas.get(body, {}))
            responses = [(code, str(r.get("description", "")))
                         for code, r in sorted(op.get("responses", {}).items())]  # fmt: skip
            anchor = "-".join([method, *re.findall(r"[A-Za-z0-9_]+", path)])
            yield str((op.get("tags") or ["other"])[0]), Operation(
                method=method.upper(), path=path, anchor=anchor,
                description=str(op.get("description") or op.get("summary") or ""),
                roles=roles_for(permissions.get((method.upper(), path))), params=params,
                body=body, body_fields=body_fields, returns=_success(op.get("responses", {})),
                responses=responses,
            )  # fmt: skip


def reference(app: FastAPI) -> dict[str, Any]:
    """The page's context: the API's title and description, how to authenticate, its
    operations grouped by tag (in the order the app declares them), and its schemas."""
    spec = app.openapi()
    tags: dict[str, Tag] = {}
    for tag, op in _operations(spec):
        tags.setdefault(tag, Tag(tag)).operations.append(op)
    components = spec.get("components", {}).get("schemas", {})
    schemas = [Schema(name, _fields(s)) for name, s in sorted(components.items())]
    info = spec["info"]
    return {
        "title": f"{info['title']} API {info['version']}", "summary": info.get("summary", ""),
        "tags": list(tags.values()), "schemas": schemas, "csrf_header": CSRF_HEADER,
        "session_cookie": SESSION_COOKIE, "write": roles_for(Permission.WRITE),
    }  # fmt: skip
