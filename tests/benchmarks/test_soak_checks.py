"""The soak's checks (bench/soak.py) fail when they should: a minute job's schedule that
fired twice or skipped a minute, a row sent twice, a row a killed worker held sent
twice or never, an escalation step taken twice."""

from bench.soak import check_deliveries, check_escalations, check_schedule


def schedules(next_run: float, ran: dict, queued=()) -> dict:
    return {
        "now": 0,
        "jobs": {"recourse-escalation": {"next_run": next_run, "ran": ran, "queued": list(queued)}},
    }


BEFORE = schedules(600, {"old": [500, 1]})


def test_one_task_a_minute_passes_and_a_minute_fired_twice_or_skipped_fails():
    problems = []
    three_minutes = {"old": [500, 1], "a": [610, 1], "b": [670, 1], "c": [731, 1]}
    check_schedule(BEFORE, schedules(780, three_minutes), problems)
    assert problems == []

    check_schedule(BEFORE, schedules(780, {**three_minutes, "b2": [675, 1]}), problems)
    assert problems == ["recourse-escalation: 4 tasks in 3 minutes"]

    problems.clear()
    del three_minutes["b"]
    check_schedule(BEFORE, schedules(780, three_minutes), problems)
    assert problems == ["recourse-escalation: 2 tasks in 3 minutes"]


def test_the_newest_task_may_wait_in_the_queue_but_not_two():
    problems = []
    ran = {"old": [500, 1], "a": [610, 1]}
    check_schedule(BEFORE, schedules(780, ran, queued=["b", "c"]), problems)
    assert problems == ["recourse-escalation: 2 tasks never ran"]


def sent_out(**overrides) -> dict:
    return {
        "sends": 2,
        "by_channel": {"email notification": 2},
        "twice": [],
        "unnamed": 0,
        "sent_without_line": [],
        "line_but_not_sent": [],
        "held": {},
        "by_process_group": {"100": 2},
        "first_by_process_group": {"100": 1000.0},
    } | overrides


def test_a_row_sent_twice_or_sent_but_not_marked_fails():
    problems = []
    check_deliveries(sent_out(), {"100": "recourse-worker"}, {}, problems)
    assert problems == []
    check_deliveries(sent_out(twice=["notifications.notification:7"]), {}, {}, problems)
    check_deliveries(sent_out(line_but_not_sent=["notifications.outboundsms:x"]), {}, {}, problems)
    assert len(problems) == 2


class Restarted:
    class process:
        pid = 200


def test_a_row_the_killed_worker_held_must_be_sent_exactly_once():
    crash = {
        "held": ["notifications.notification:7", "notifications.notification:8"],
        "tries": 1,
        "killed_at": 1000.0,
        "restarted_at": 1020.0,
        "restarted": Restarted,
    }
    problems = []
    check_deliveries(
        sent_out(
            held={
                "notifications.notification:7": [1119.0],
                "notifications.notification:8": [1119.0],
            },
            first_by_process_group={"100": 900.0, "200": 1021.0},
        ),
        {},
        crash,
        problems,
    )
    assert problems == []
    check_deliveries(
        sent_out(
            held={
                "notifications.notification:7": [1010.0, 1119.0],
                "notifications.notification:8": [],
            },
            first_by_process_group={"100": 900.0},
        ),
        {},
        crash,
        problems,
    )
    assert problems == [
        "the restarted worker sent nothing",
        "a row the killed worker held was sent 2 times",
        "a row the killed worker held was sent 0 times",
    ]


def test_an_escalation_step_taken_twice_or_a_staged_case_never_escalated_fails():
    problems = []
    check_escalations(
        {"steps": 3, "cases": 2, "twice": ["c1 level 1"], "staged_not_escalated": ["c3"]},
        3,
        problems,
    )
    assert problems == [
        "escalation steps taken twice: ['c1 level 1']",
        "1 overdue cases never escalated",
    ]
