"""Synthetic county generator (合成演示数据): a seeded, realistic stream of inbound events.

``generate(CountyConfig(...))`` yields contract-v1 inbound events (JSON-ready dicts) in
the order they would reach ingest; ``build_manifest`` says which advisor is which and
what the appraisal must conclude; ``write_ndjson`` and ``post_events`` send them on.
``python -m embedded.synth --help`` is the command line.
"""

from embedded.synth.config import CountyConfig
from embedded.synth.manifest import Manifest, build_manifest, profile_table
from embedded.synth.output import WriteStats, encode_event, write_ndjson
from embedded.synth.post import IngestClient, PostError, PostSummary, post_events
from embedded.synth.profiles import Profile
from embedded.synth.roster import Roster, build_roster
from embedded.synth.stream import generate, generate_from

__all__ = [
    "CountyConfig",
    "IngestClient",
    "Manifest",
    "PostError",
    "PostSummary",
    "Profile",
    "Roster",
    "WriteStats",
    "build_manifest",
    "build_roster",
    "encode_event",
    "generate",
    "generate_from",
    "post_events",
    "profile_table",
    "write_ndjson",
]
