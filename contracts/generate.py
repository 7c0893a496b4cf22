"""Generate the committed contract artifacts from the models.

    python -m contracts.generate           # (re)write contracts/schemas/*.json and asyncapi.json
    python -m contracts.generate --check   # exit 1 and list the files that drifted

The AsyncAPI 3.0 document is produced by FastStream's own specification
generator from a declaration of the topics (a ``KafkaBroker`` that is never
started), then annotated with what FastStream cannot express (the Kafka key).
Output is deterministic: sorted keys, no timestamps. This is the only module of
``contracts`` that imports FastStream; the models never import it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from pydantic import BaseModel, TypeAdapter

from contracts.v1 import (
    INBOUND_EVENT_ADAPTER,
    INBOUND_MODELS,
    PUBLISHED_EVENT_ADAPTER,
    PUBLISHED_MODELS,
    VERDICT_EVENT_ADAPTER,
    VERDICT_MODELS,
    DeadLetter,
    PublishedEvent,
    VerdictEvent,
)

REGENERATE_COMMAND: Final = "python -m contracts.generate"
CONTRACTS_DIR: Final = Path(__file__).resolve().parent
SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION: Final = "1.0.0"

TOPIC_ADVISOR_EVENTS: Final = "advisor-events"
TOPIC_VERDICTS: Final = "appraisal-verdicts"
TOPIC_INGEST_DLQ: Final = "ingest-dlq"
TOPIC_APPRAISAL_DLQ: Final = "appraisal-dlq"


def render(document: Any) -> str:
    """The canonical text of a generated file (sorted keys, UTF-8, final newline)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _schema_document(name: str, schema: dict[str, Any], **extra: str) -> dict[str, Any]:
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:advisor-appraisal:schema:{name}",
        **extra,
        **schema,
    }


def _model_schema(name: str, model: type[BaseModel]) -> dict[str, Any]:
    return _schema_document(name, model.model_json_schema())


def _union_schema(
    name: str, adapter: TypeAdapter[Any], title: str, description: str
) -> dict[str, Any]:
    return _schema_document(name, adapter.json_schema(), title=title, description=description)


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema documents by file name (relative to ``contracts/schemas``)."""
    schemas: dict[str, dict[str, Any]] = {}
    for type_, inbound in INBOUND_MODELS.items():
        schemas[f"{type_}.inbound.json"] = _model_schema(f"{type_}.inbound", inbound)
    for type_, published in PUBLISHED_MODELS.items():
        schemas[f"{type_}.json"] = _model_schema(type_, published)
    for type_, verdict in VERDICT_MODELS.items():
        schemas[f"{type_}.json"] = _model_schema(type_, verdict)
    schemas["inbound-event.v1.json"] = _union_schema(
        "inbound-event.v1",
        INBOUND_EVENT_ADAPTER,
        "InboundEvent",
        "Any event a source may send to ingest (POST /v1/events, ledger import), "
        "discriminated by `type`.",
    )
    schemas["published-event.v1.json"] = _union_schema(
        "published-event.v1",
        PUBLISHED_EVENT_ADAPTER,
        "PublishedEvent",
        f"Any event on the `{TOPIC_ADVISOR_EVENTS}` topic, discriminated by `type`.",
    )
    schemas["verdict-event.v1.json"] = _union_schema(
        "verdict-event.v1",
        VERDICT_EVENT_ADAPTER,
        "VerdictEvent",
        f"Any event on the `{TOPIC_VERDICTS}` topic, discriminated by `type`.",
    )
    schemas["dead-letter.v1.json"] = _model_schema("dead-letter.v1", DeadLetter)
    return schemas


# -- AsyncAPI

_KEY_DESCRIPTIONS: Final[dict[str, str]] = {
    TOPIC_ADVISOR_EVENTS: (
        "`advisor_id`, or `county_id` when `advisor_id` is empty (village registrations "
        "without an advisor, policy.published.v1, period.closed.v1): all events of one "
        "advisor are in one partition, in order."
    ),
    TOPIC_VERDICTS: "`county_id`: a county's verdicts and amendments stay in order.",
    TOPIC_INGEST_DLQ: "`advisor_id` or `county_id` of the rejected event when known, else none.",
    TOPIC_APPRAISAL_DLQ: "The key of the consumed message.",
}


def _declare_topics() -> KafkaBroker:
    """The Kafka topics of the system, as FastStream endpoints (never started)."""
    broker = KafkaBroker(
        "localhost:9092",
        description=(
            "Kafka (embedded mode: the Tansu broker started by the project; production: "
            "Apache Kafka in KRaft mode). Messages are UTF-8 JSON."
        ),
    )
    broker.publisher(
        TOPIC_ADVISOR_EVENTS,
        title=f"{TOPIC_ADVISOR_EVENTS}:ingest",
        description=(
            "Validated, pseudonymised input events. Published by ingest (acks=all) only "
            "after every check passed; `event_id` makes re-sent events idempotent."
        ),
        schema=PublishedEvent,
    )

    @broker.subscriber(
        TOPIC_ADVISOR_EVENTS,
        group_id="appraisal",
        title=f"{TOPIC_ADVISOR_EVENTS}:appraisal",
        description=(
            "Consumed by the appraisal service (consumer group `appraisal`), applied to "
            "the event store exactly once per `event_id`; poison events go to "
            f"`{TOPIC_APPRAISAL_DLQ}`."
        ),
    )
    async def apply_advisor_event(event: PublishedEvent) -> None:
        """Declaration only: the real handler lives in the appraisal service."""

    broker.publisher(
        TOPIC_VERDICTS,
        title=f"{TOPIC_VERDICTS}:appraisal",
        description=(
            "Verdicts issued when a county closes a year (`verdict.issued.v1`) and later "
            "amendments (`verdict.amended.v1`). Published by appraisal; read by county "
            "bureau systems."
        ),
        schema=VerdictEvent,
    )
    broker.publisher(
        TOPIC_INGEST_DLQ,
        title=f"{TOPIC_INGEST_DLQ}:ingest",
        description="Events ingest rejected, with the reasons; citizen data removed.",
        schema=DeadLetter,
    )
    broker.publisher(
        TOPIC_APPRAISAL_DLQ,
        title=f"{TOPIC_APPRAISAL_DLQ}:appraisal",
        description=(
            "Poison events appraisal could not apply, with the reasons and the Kafka "
            "position; the partition keeps moving."
        ),
        schema=DeadLetter,
    )
    return broker


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of the system's topics."""
    specification = AsyncAPI(
        _declare_topics(),
        title="Village legal advisor appraisal (一村一法律顾问考核) — events",
        version=ASYNCAPI_VERSION,
        description=(
            "Kafka topics of contract v1. Schemas are generated from the pydantic models in "
            f"`contracts/v1.py`; regenerate with `{REGENERATE_COMMAND}`."
        ),
        schema_version="3.0.0",
    ).to_specification()
    document: dict[str, Any] = json.loads(specification.to_json())
    for channel in document["channels"].values():
        topic = channel["address"]
        for reference in channel["messages"].values():
            name = reference["$ref"].rsplit("/", 1)[-1]
            message = document["components"]["messages"][name]
            message["contentType"] = "application/json"
            message["bindings"] = {
                "kafka": {
                    "bindingVersion": "0.5.0",
                    "key": {"type": "string", "description": _KEY_DESCRIPTIONS[topic]},
                }
            }
    return document


def artifacts() -> dict[str, str]:
    """Every generated file's text by path relative to ``contracts/``."""
    files = {f"schemas/{name}": render(schema) for name, schema in json_schemas().items()}
    files["asyncapi.json"] = render(asyncapi_document())
    return dict(sorted(files.items()))


def drifted(root: Path = CONTRACTS_DIR) -> list[str]:
    """Paths (relative to ``root``) whose committed text differs from the models, or is stale."""
    expected = artifacts()
    changed = [
        path
        for path, text in expected.items()
        if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != text
    ]
    schema_dir = root / "schemas"
    stale = (
        sorted(
            f"schemas/{p.name}"
            for p in schema_dir.glob("*.json")
            if f"schemas/{p.name}" not in expected
        )
        if schema_dir.is_dir()
        else []
    )
    return sorted(changed + stale)


def write(root: Path = CONTRACTS_DIR) -> list[str]:
    """Write every artifact under ``root``; remove stale schema files. Returns changed paths."""
    changes = drifted(root)
    expected = artifacts()
    for path in changes:
        target = root / path
        if path in expected:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(expected[path], encoding="utf-8")
        else:
            target.unlink()
    return changes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m contracts.generate",
        description="Generate the JSON Schemas and the AsyncAPI document of contract v1.",
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if any file drifted"
    )
    parser.add_argument(
        "--root",
        type=Path,
        default=CONTRACTS_DIR,
        help="the contracts directory (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.check:
        changes = drifted(args.root)
        if changes:
            print("Contract artifacts differ from the models:", file=sys.stderr)
            for path in changes:
                print(f"  {path}", file=sys.stderr)
            print(f"Regenerate with: {REGENERATE_COMMAND}", file=sys.stderr)
            return 1
        print("Contract artifacts are up to date.")
        return 0
    changes = write(args.root)
    for path in changes:
        print(f"wrote {path}")
    print(f"{len(changes)} file(s) changed, {len(artifacts())} generated.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
