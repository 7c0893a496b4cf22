"""Where a partition resumes after assignment, in every situation the log can be in."""

from __future__ import annotations

import pytest

from appraisal.positions import Resume, ResumeReason, decide_resume, log_seems_shorter

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


@pytest.mark.parametrize(
    ("recorded", "committed", "end", "seems_shorter"),
    [
        pytest.param(6079, 6079, 6078, True, id="Tansu's undercount: stored = committed = end + 1"),
        pytest.param(30, 30, 10, True, id="recreated, group offsets kept"),
        pytest.param(30, 20, 25, False, id="committed within the log: no reason to doubt it"),
        pytest.param(30, None, 10, False, id="no committed offsets: a different question"),
        pytest.param(30, 30, 30, False, id="caught up"),
        pytest.param(None, 30, 10, False, id="nothing stored"),
    ],
)
def test_a_log_seems_shorter_only_when_store_and_group_are_both_past_its_end(
    recorded: int | None, committed: int | None, end: int, seems_shorter: bool
) -> None:
    assert log_seems_shorter(recorded, committed, end) is seems_shorter


def test_an_undercounted_end_keeps_the_epoch_when_our_last_record_is_still_there() -> None:
    # The crash run's partition: 6,079 records stored and committed, end reported 6078.
    resume = decide_resume(6079, 6079, 0, 6078, last_record_still_there=True)
    assert resume == Resume(6079, False, ResumeReason.END_UNDERCOUNTED)


def test_a_shorter_log_without_our_last_record_starts_a_new_epoch() -> None:
    assert decide_resume(6079, 6079, 0, 6078, last_record_still_there=False) == Resume(
        0, True, ResumeReason.LOG_SHORTER
    )


@pytest.mark.parametrize(
    ("recorded", "committed", "beginning", "end", "expected"),
    [
        pytest.param(
            30, 20, 0, 25, Resume(30, False, ResumeReason.RECORDED), id="committed within the log"
        ),
        pytest.param(
            30, None, 0, 10, Resume(0, True, ResumeReason.GROUP_OFFSETS_LOST), id="offsets lost"
        ),
        pytest.param(None, 30, 0, 10, Resume(0, False, ResumeReason.FRESH), id="fresh store"),
        pytest.param(30, 30, 31, 40, Resume(31, False, ResumeReason.RECORDED), id="a normal log"),
    ],
)
def test_the_check_of_the_last_record_changes_nothing_but_a_seemingly_shorter_log(
    recorded: int | None, committed: int | None, beginning: int, end: int, expected: Resume
) -> None:
    assert decide_resume(recorded, committed, beginning, end, last_record_still_there=True) == (
        expected
    )
