#!/bin/bash
# The one-shot `kafka-topics` job of docker-compose.yml: creates the system's topics
# (names as in services/embedded/embedded/topics.py) and applies their retention.
#
# Idempotent and declarative: re-running it after editing the table below creates
# missing topics, re-applies retention and raises partition counts (Kafka cannot
# lower them). Raising the advisor-events partitions is safe for the appraisal
# service: results do not depend on arrival order and every event id is applied once;
# a new partition is read from its beginning.
#
# Retention. The event store (PostgreSQL) is the system of record, not Kafka. The input
# topic keeps 30 days so that a consumer that lagged or an event store restored from a
# backup up to ~4 weeks old can re-read what it misses (docs/operations.md, "Back up").
# Verdicts keep 90 days for county systems that read them late (the read API keeps
# every version for ever). Dead letters keep 180 days: they wait for a person, and
# for poison events the DLQ is the only copy once the input topic has expired them.
set -euo pipefail

BOOTSTRAP="${KAFKA_BOOTSTRAP:-kafka:9092}"
KAFKA_BIN="${KAFKA_BIN:-/opt/kafka/bin}"
REPLICATION_FACTOR="${REPLICATION_FACTOR:-1}"
DAY_MS=86400000

if ((REPLICATION_FACTOR > 1)); then
  MIN_INSYNC_REPLICAS=$((REPLICATION_FACTOR - 1))
else
  MIN_INSYNC_REPLICAS=1
fi

topics() { "$KAFKA_BIN/kafka-topics.sh" --bootstrap-server "$BOOTSTRAP" "$@"; }

# ensure_topic NAME PARTITIONS RETENTION_DAYS
ensure_topic() {
  local name=$1 partitions=$2 retention_ms=$(($3 * DAY_MS)) current
  topics --create --if-not-exists --topic "$name" \
    --partitions "$partitions" --replication-factor "$REPLICATION_FACTOR" \
    --config "retention.ms=$retention_ms" --config cleanup.policy=delete \
    --config "min.insync.replicas=$MIN_INSYNC_REPLICAS"
  # --if-not-exists leaves an existing topic as it is: apply the table's values.
  "$KAFKA_BIN/kafka-configs.sh" --bootstrap-server "$BOOTSTRAP" --alter \
    --entity-type topics --entity-name "$name" \
    --add-config "retention.ms=$retention_ms,cleanup.policy=delete"
  current=$(topics --describe --topic "$name" | sed -n 's/.*PartitionCount: *\([0-9]*\).*/\1/p' | head -n 1)
  if [[ -z "$current" ]]; then
    echo "cannot read the partition count of $name" >&2
    return 1
  fi
  if ((current < partitions)); then
    topics --alter --topic "$name" --partitions "$partitions"
    echo "$name: partitions $current -> $partitions"
  elif ((current > partitions)); then
    echo "$name has $current partitions, more than the $partitions wanted; Kafka cannot lower them" >&2
  fi
  echo "$name: ready ($partitions partitions, retention $3 days)"
}

#            topic               partitions  retention (days)
ensure_topic advisor-events      12          30
ensure_topic appraisal-verdicts  3           90
ensure_topic ingest-dlq          1           180
ensure_topic appraisal-dlq       1           180
