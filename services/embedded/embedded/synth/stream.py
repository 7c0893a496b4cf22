"""The county's event stream, in arrival order, produced lazily.

All advisors walk the calendar in lockstep, one day at a time, each pushing that day's
events into one heap keyed by (arrival, advisor, sequence). An event made on day *d*
never arrives before *d* begins, so after each day every event that has arrived by
midnight is final and is yielded. The heap only ever holds what is still in transit:
a few days of messages plus the township ledgers waiting for their monthly import.

Determinism: one ``random.Random`` per advisor seeded with a string (hashed with
SHA-512, never with Python's randomised ``hash``), fixed iteration orders, ties broken
by advisor index and sequence number, and no clock anywhere.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import date

from embedded.synth.advisor import AdvisorStream, Event, Item, Sources
from embedded.synth.config import CountyConfig
from embedded.synth.roster import Roster, build_roster
from embedded.synth.timeline import DAY, HOUR, Timeline, day_number, month_days

__all__ = ["county_events", "generate", "generate_from"]

COUNTY_STREAM = 0
"""Stream index of the county's own events (registrations, closes): first on ties."""


def county_events(roster: Roster, timeline: Timeline, sources: Sources) -> list[Item]:
    """Every village's registration, and ``period.closed.v1`` for each year to close."""
    config = roster.config
    first_day = date(config.years[0], 1, 1)
    # The register names the advisor serving on the first day of the generated years.
    serving: dict[str, str] = {}
    for advisor in roster.advisors:
        for a in advisor.assignments:
            if a.appointed_on <= first_day:
                serving.setdefault(a.village.village_id, advisor.advisor_id)
    start = day_number(date(roster.first_year - 1, 12, 1)) * DAY + 9 * HOUR
    items: list[Item] = []
    for village in roster.villages:
        at = start + 5 * village.index
        event = {
            "type": "village.registered.v1",
            "source": sources.bureau,
            "source_event_id": f"VR-{village.village_id}",
            "occurred_at": timeline.iso(at),
            "county_id": config.county_id,
            "advisor_id": serving.get(village.village_id, ""),
            "payload": {
                "village_id": village.village_id,
                "name": village.name,
                "township_id": village.township.township_id,
                "kind": village.kind,
                "remote": village.remote,
            },
        }
        items.append((at + 30, COUNTY_STREAM, len(items), event))
    for year in config.close_years:
        at = day_number(date(year + 1, *config.close_day)) * DAY + 10 * HOUR
        event = {
            "type": "period.closed.v1",
            "source": sources.bureau,
            "source_event_id": f"CLOSE-{config.county_id}-{year}",
            "occurred_at": timeline.iso(at),
            "county_id": config.county_id,
            "advisor_id": "",
            "payload": {"year": year},
        }
        items.append((at, COUNTY_STREAM, len(items), event))
    return items


def generate_from(roster: Roster) -> Iterator[Event]:
    """The events of a laid-out county, in arrival order (see :func:`generate`)."""
    config = roster.config
    timeline = Timeline(roster.first_year, config.focus_year)
    sources = Sources(config.county_id)
    heap: list[Item] = county_events(roster, timeline, sources)
    heapq.heapify(heap)
    advisors = [
        AdvisorStream(roster, advisor, index, timeline, sources, heap)
        for index, advisor in enumerate(roster.advisors, start=1)
    ]
    for advisor in advisors:
        advisor.start()
    pop = heapq.heappop
    for year in roster.years:
        for advisor in advisors:
            advisor.start_year(year)
        working = [a for a in advisors if a.services]
        for month in range(1, 13):
            start, end = month_days(year, month)
            for advisor in working:
                advisor.start_month(year, month, start, end)
            for day in range(start, end):
                for advisor in working:
                    advisor.run_day(day)
                midnight = (day + 1) * DAY
                while heap and heap[0][0] < midnight:
                    yield pop(heap)[3]
    while heap:
        yield pop(heap)[3]


def generate(config: CountyConfig) -> Iterator[Event]:
    """Every inbound event of a synthetic county, as JSON-ready dicts in arrival order.

    Lazy: events are made as they are consumed, and memory is bounded by the county's
    size (its roster, a year's plan per assignment and the events in transit), never by
    the number of events generated.
    """
    return generate_from(build_roster(config))
