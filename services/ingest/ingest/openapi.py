"""The OpenAPI document of the ingest API: served at ``/openapi.json`` and committed.

    python -m ingest openapi           # (re)write services/ingest/openapi.json
    python -m ingest openapi --check   # exit 1 when the committed file drifted

``/v1/events`` reads its body itself (a JSON array or NDJSON, checked event by
event), so its request schema is declared here from the contract's models,
with valid events as examples.
"""

from __future__ import annotations

import argparse
import copy
import functools
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from fastapi.openapi.utils import get_openapi
from pydantic import SecretStr, TypeAdapter

from contracts import EVENT_TYPES, INBOUND_MODELS, InboundEvent

if TYPE_CHECKING:
    from fastapi import FastAPI

REGENERATE_COMMAND: Final = "python -m ingest openapi"
OPENAPI_PATH: Final = Path(__file__).resolve().parent.parent / "openapi.json"

DESCRIPTION: Final = """\
The front door of the village legal advisor appraisal system (一村一法律顾问考核):
sources submit advisor activities, citizen ratings and complaints, inspections,
policies and year closings as **contract v1** events.

* Each event is checked on its own against contract v1 (unknown fields, naive
  datetimes, times more than 5 minutes ahead, out-of-range values… are rejected
  with a machine-readable `code`, the JSON `path` and a `message`), and against
  the scope of the API key (event types, counties, sources; `forbidden_scope`).
* `event_id = uuid5(NAMESPACE_URL, "urn:advisor-appraisal:" + source + ":" +
  source_event_id)`: a re-sent event is reported `duplicate` and not published
  again.
* A rating's or complaint's `citizen` is replaced by `citizen_ref` (HMAC-SHA256)
  before anything is written; the raw value is never stored or published.
* 202 means Kafka acknowledged every accepted event (`acks=all`). 503 means
  nothing was accepted: retry after `Retry-After` seconds.

Authenticate with `Authorization: Bearer <key>` or `X-API-Key: <key>`.
"""

_ARRAY_TYPES: Final = ("activity.lecture.v1", "rating.submitted.v1", "activity.onsite_duty.v1")


def example_event(type_: str) -> dict[str, Any]:
    """The contract's example of an inbound event of ``type_`` (a valid event; a fresh copy)."""
    return copy.deepcopy(_examples()[type_])


@functools.cache
def _examples() -> dict[str, dict[str, Any]]:
    return {t: model.model_json_schema()["examples"][0] for t, model in INBOUND_MODELS.items()}


def request_examples() -> dict[str, list[dict[str, Any]]]:
    """Example bodies of ``POST /v1/events`` (each a list of valid events)."""
    return {
        "a-few-events": [example_event(t) for t in _ARRAY_TYPES],
        "one-of-each-type": [example_event(t) for t in EVENT_TYPES],
    }


def events_request_body(max_events: int) -> dict[str, Any]:
    """The ``requestBody`` of ``POST /v1/events``."""
    examples = request_examples()
    ndjson = "\n".join(
        json.dumps(e, ensure_ascii=False, sort_keys=True) for e in examples["a-few-events"]
    )
    return {
        "requestBody": {
            "required": True,
            "description": (
                f"Up to {max_events} events (and the byte limit), as a JSON array or as NDJSON "
                "(one event per line). Within NDJSON a line that is not JSON rejects only "
                "its own event."
            ),
            "content": {
                "application/json": {
                    "schema": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": max_events,
                        "items": {"$ref": "#/components/schemas/InboundEvent"},
                    },
                    "examples": {
                        name: {"summary": name.replace("-", " "), "value": value}
                        for name, value in examples.items()
                    },
                },
                "application/x-ndjson": {
                    "schema": {"type": "string", "description": "One JSON event per line."},
                    "examples": {"a-few-events": {"summary": "a few events", "value": ndjson}},
                },
            },
        }
    }


LEDGER_REQUEST_BODY: Final[dict[str, Any]] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "source", "county"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "The ledger, .xlsx or .csv (UTF-8 or GB18030).",
                        },
                        "source": {
                            "type": "string",
                            "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
                            "description": "`source` of the events, e.g. `dongchong-sfs-ledger`.",
                        },
                        "county": {
                            "type": "string",
                            "pattern": "^[0-9]{6}$",
                            "description": "County code the ledger belongs to.",
                        },
                    },
                }
            }
        },
    }
}


def _contract_components() -> dict[str, Any]:
    schema = TypeAdapter(list[InboundEvent]).json_schema(
        ref_template="#/components/schemas/{model}"
    )
    components: dict[str, Any] = schema.pop("$defs")
    components["InboundEvent"] = {
        **schema["items"],
        "title": "InboundEvent",
        "description": "Any event a source may send (contract v1), by `type`.",
    }
    return components


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` include the contract's inbound event schemas."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = document.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in _contract_components().items():
                if name in schemas and schemas[name] != definition:
                    msg = f"OpenAPI component {name!r} is defined twice, differently"
                    raise RuntimeError(msg)
                schemas[name] = definition
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def openapi_document() -> dict[str, Any]:
    """The document of an app with default settings (the environment is not read)."""
    from ingest.http import create_app
    from ingest.settings import Settings

    settings = Settings.model_construct(hmac_key=SecretStr("openapi-generation-" + "0" * 32))
    return create_app(settings).openapi()


def render(document: Any) -> str:
    """The canonical text of the committed file (sorted keys, UTF-8, final newline)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def drifted(path: Path = OPENAPI_PATH) -> bool:
    """Whether the file at ``path`` differs from what the code generates."""
    try:
        return path.read_text(encoding="utf-8") != render(openapi_document())
    except FileNotFoundError:
        return True


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ingest openapi [--check] [--output PATH]``."""
    parser = argparse.ArgumentParser(prog=REGENERATE_COMMAND, description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file drifted")
    parser.add_argument("--output", type=Path, default=OPENAPI_PATH, help="file to write/check")
    args = parser.parse_args(argv)
    if args.check:
        if drifted(args.output):
            print(
                f"{args.output} differs from the API; regenerate it with {REGENERATE_COMMAND}",
                file=sys.stderr,
            )
            return 1
        return 0
    args.output.write_text(render(openapi_document()), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0
