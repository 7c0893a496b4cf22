"""Where a partition resumes after assignment, in every situation the log can be in."""

from __future__ import annotations

import pytest

from appraisal.positions import Resume, ResumeReason, decide_resume

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("recorded", "committed", "beginning", "end", "expected"),
    [
        pytest.param(None, None, 0, 50, Resume(0, False, ResumeReason.FRESH), id="fresh store"),
        pytest.param(
            None, 40, 0, 50, Resume(0, False, ResumeReason.FRESH), id="fresh store, old group"
        ),
        pytest.param(30, 30, 0, 50, Resume(30, False, ResumeReason.RECORDED), id="clean restart"),
        pytest.param(
            30,
            20,
            0,
            50,
            Resume(30, False, ResumeReason.RECORDED),
            id="crash after store commit, before Kafka commit",
        ),
        pytest.param(
            30,
            40,
            0,
            50,
            Resume(30, False, ResumeReason.RECORDED),
            id="store restored from an older backup",
        ),
        pytest.param(
            30,
            30,
            35,
            50,
            Resume(35, False, ResumeReason.RECORDED),
            id="retention deleted what we had not read",
        ),
        pytest.param(
            30,
            30,
            0,
            10,
            Resume(0, True, ResumeReason.LOG_SHORTER),
            id="topic recreated, group offsets kept",
        ),
        pytest.param(
            30,
            None,
            0,
            10,
            Resume(0, True, ResumeReason.GROUP_OFFSETS_LOST),
            id="topic recreated, group offsets gone",
        ),
        pytest.param(
            30,
            20,
            0,
            25,
            Resume(30, False, ResumeReason.RECORDED),
            id="broker undercounts the end (Tansu): trust the stored position",
        ),
        pytest.param(
            30,
            None,
            0,
            80,
            Resume(0, True, ResumeReason.GROUP_OFFSETS_LOST),
            id="memory broker restarted and refilled past our position",
        ),
        pytest.param(50, 50, 0, 50, Resume(50, False, ResumeReason.RECORDED), id="caught up"),
    ],
)
def test_a_partition_resumes_where_the_store_says_unless_the_log_was_reset(
    recorded: int | None, committed: int | None, beginning: int, end: int, expected: Resume
) -> None:
    assert decide_resume(recorded, committed, beginning, end) == expected
