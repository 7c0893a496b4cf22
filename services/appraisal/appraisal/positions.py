"""Where a partition resumes: the event store's tracked position, not Kafka's alone.

Each Kafka batch is stored together with a tracking row `topic:partition@epoch` =
next offset to read, in the same transaction (DESIGN §4). On assignment the
consumer seeks to that position, so a crash between the store commit and the
Kafka offset commit re-reads nothing.

Offsets can go backwards: a topic recreated, a memory broker restarted, group
offsets expired. Then the recorded position means nothing for the new log, so
the partition starts a new *epoch* (a fresh tracking name) and is read from the
beginning. Nothing is doubled because every fact is keyed by its event id, not
by its offset.

A reported end is not proof enough that the log is shorter: Tansu once reported
end 6078 for a partition whose record 6078 was stored and committed (6079), and
the whole partition was re-read. So a log that only *seems* shorter is checked
first: if the broker still serves, at our position - 1, the very record the
store holds (same event id), the end was undercounted and reading resumes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from eventsourcing.persistence import ProcessRecorder, Tracking


class ResumeReason(StrEnum):
    FRESH = "fresh"  # nothing stored for this partition yet
    RECORDED = "recorded"  # continue after the last stored batch
    LOG_SHORTER = "log_shorter"  # the log ends before our position: it was recreated
    END_UNDERCOUNTED = "end_undercounted"  # it only seemed to: our last record is still there
    GROUP_OFFSETS_LOST = "group_offsets_lost"  # the broker forgot the group's offsets


@dataclass(frozen=True, slots=True)
class Resume:
    offset: int  # the next offset to read
    new_epoch: bool
    reason: ResumeReason


def log_seems_shorter(recorded: int | None, committed: int | None, end: int) -> bool:
    """Whether the reported end says the log was recreated; worth checking before
    `decide_resume` (see `last_record_still_there`)."""
    return recorded is not None and committed is not None and recorded > end and committed > end


def decide_resume(
    recorded: int | None,
    committed: int | None,
    beginning: int,
    end: int,
    *,
    last_record_still_there: bool = False,
) -> Resume:
    """Decide where to read a partition from after it is assigned.

    `recorded` is the next offset according to the event store (this epoch),
    `committed` the group's committed offset in Kafka, `beginning`/`end` the
    log's first and next offsets as the broker reports them.
    `last_record_still_there`: the broker served a record at `recorded - 1` whose
    event id the store holds, so the log reaches our position whatever `end` says.
    """
    if recorded is None:
        return Resume(beginning, new_epoch=False, reason=ResumeReason.FRESH)
    if log_seems_shorter(recorded, committed, end):
        if last_record_still_there:
            return Resume(recorded, new_epoch=False, reason=ResumeReason.END_UNDERCOUNTED)
        # Kafka itself says we committed beyond the log's end, and the record we
        # stored last is gone: the log was recreated. (An end below our position
        # alone is not proof: some brokers (Tansu) undercount it.)
        return Resume(beginning, new_epoch=True, reason=ResumeReason.LOG_SHORTER)
    if committed is None:
        # We stored batches but the broker has no offsets for us: either it lost its
        # state (a memory broker restarted) or the offsets expired. We cannot tell a
        # new log from the old one, so re-read it all; event ids keep this exact.
        return Resume(beginning, new_epoch=True, reason=ResumeReason.GROUP_OFFSETS_LOST)
    return Resume(max(recorded, beginning), new_epoch=False, reason=ResumeReason.RECORDED)


class PartitionPositions:
    """Reads and names the tracking rows of Kafka partitions in the event store."""

    def __init__(self, recorder: ProcessRecorder, consumer_name: str) -> None:
        self.recorder = recorder
        self.consumer_name = consumer_name

    def _epoch_name(self, topic: str, partition: int) -> str:
        return f"{self.consumer_name}:{topic}:{partition}#epoch"

    def epoch(self, topic: str, partition: int) -> int:
        return self.recorder.max_tracking_id(self._epoch_name(topic, partition)) or 0

    def tracking_name(self, topic: str, partition: int, epoch: int) -> str:
        return f"{self.consumer_name}:{topic}:{partition}@{epoch}"

    def recorded(self, topic: str, partition: int, epoch: int) -> int | None:
        """The next offset to read in this epoch, or None if nothing was stored."""
        return self.recorder.max_tracking_id(self.tracking_name(topic, partition, epoch))

    def start_epoch(self, topic: str, partition: int, epoch: int) -> None:
        """Record that the partition moved to `epoch` (only ever advances)."""
        self.recorder.insert_events(
            [], tracking=Tracking(self._epoch_name(topic, partition), epoch)
        )

    def tracking(self, topic: str, partition: int, epoch: int, next_offset: int) -> Tracking:
        return Tracking(self.tracking_name(topic, partition, epoch), next_offset)
