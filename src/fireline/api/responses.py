"""Writing API responses."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """The model as JSON. The route still declares its response_model for the OpenAPI document;
    answering with a Response skips FastAPI's second validation of an object we just built."""
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")
