"""Writing API responses."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel | Sequence[BaseModel], status_code: int = 200) -> Response:
    """The model (or list of models) as JSON. The route still declares its response_model for
    the OpenAPI document; answering with a Response skips FastAPI's second validation of an
    object we just built."""
    if isinstance(model, BaseModel):
        body = model.model_dump_json()
    else:
        body = "[" + ",".join(item.model_dump_json() for item in model) + "]"
    return Response(body, status_code=status_code, media_type="application/json")
