"""What the generated OpenAPI document must say beyond what FastAPI infers, so that clients and
schema-driven tests (schemathesis, tests/server/test_api_schema_fuzz.py) can hold every answer to
a declared schema:

- the error envelope (`{"error": {"code", "message", "details"}}`) as every operation's `default`
  response (any status not listed: 401, 403, 429...) and as the body of the 422 FastAPI lists (our
  handler answers validation errors with the envelope, not FastAPI's own shape);
- request bodies that a route reads by hand (the sync push caps its size while reading and keeps
  malformed events) declared with `raw_json_body(Model)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from server.api.errors import ErrorEnvelope

_REF = "#/components/schemas/{model}"
_BODY_MODELS: dict[str, type[BaseModel]] = {}


def raw_json_body(model: type[BaseModel]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its JSON body itself: documents it as `model`."""
    _BODY_MODELS[model.__name__] = model
    schema = {"$ref": _REF.format(model=model.__name__)}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def _add_model(schemas: dict[str, Any], model: type[BaseModel]) -> None:
    definition = model.model_json_schema(ref_template=_REF)
    for name, nested in definition.pop("$defs", {}).items():
        schemas.setdefault(name, nested)
    schemas.setdefault(model.__name__, definition)


def install_openapi(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()  # cached by FastAPI in app.openapi_schema: patched once, in place
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        if "ErrorEnvelope" in schemas:
            return schema
        models: list[type[BaseModel]] = [ErrorEnvelope, *_BODY_MODELS.values()]
        for model in models:
            _add_model(schemas, model)
        content = {"application/json": {"schema": {"$ref": _REF.format(model="ErrorEnvelope")}}}
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"]["content"] = content
                responses.setdefault(
                    "default",
                    {"description": "An error, in the error envelope", "content": content},
                )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
