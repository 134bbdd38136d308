"""`make soak`: ten minutes of mixed load on Recourse (production settings, gunicorn,
the django-q2 worker consuming): SMS 60%, web 30%, staff pages 10%.

Four client threads (Python: at this rate it is not the bottleneck, and unlike wrk it
counts a request only once its response is read) each play whole stories in order: a child's SMS
conversation (unit and story, more story, DONE, category, danger answer, then a later
text added to the filed case), web complaints, a staff page. Afterwards it checks: no
5xx; every complaint and message sent is stored exactly once; every routing
notification is sent; the queue drains within two minutes; memory stays flat.

Email and texts go to the ledger backends (notifications/backends/ledger.py): nothing
leaves the machine, and every send is one line naming the row, so the soak counts at
the network edge that each notice, text and email went out exactly once, and that
every row marked sent has its line. A few cases fall overdue during the run (their
deadlines are spread over it): the minute sweep escalates them, and no step may be
taken twice. Each minute job's schedule must make exactly one task per minute, and
each must run.

`--nodes 2` (`make soak NODES=2`, PostgreSQL only): two gunicorn instances on two
ports (each story's requests alternate between them) and two qcluster workers on the
one database. Halfway through, the second worker is killed (SIGKILL to its whole
process group: the cluster and its task processes at once, a crash) and started again
`--restart-after` seconds later. The same checks then prove that two workers never do
a step twice, and that what the killed one held (tasks it had taken, rows it had
claimed) is done after the claim timeout, once."""

from __future__ import annotations

import argparse
import itertools
import os
import random
import secrets
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import (  # noqa: E402
    RECOURSE_PORT,
    VAR,
    Browser,
    Services,
    access_log,
    logged_since,
    postgres_answers,
    prepare,
    probe,
    raw_request,
    recourse_env,
    recourse_ports,
    staff_cookie,
    start_recourse,
    start_worker,
    stop_on_signals,
    twilio_sms,
)

THREADS = 4
SMS_PATH = "/sms/twilio/inbound/"
LEDGER = VAR / "soak-deliveries.ledger"
# A row claimed by the killed worker is tried again after this long (production: 300 s),
# so it is sent within the run. Above the task timeout (Q_TIMEOUT, 60 s): a slow send
# still running is never taken from its worker.
CLAIM_TIMEOUT_SECONDS = 90
# Each send's pretend provider round trip (the ledger backends).
SEND_MS = 50


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("SOAK_SECONDS", "600")))
    parser.add_argument(
        "--delay-ms",
        type=int,
        default=int(os.environ.get("SOAK_DELAY_MS", "80")),
        help="pause before each request on each of the 4 connections",
    )
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", "100000")))
    parser.add_argument(
        "--nodes",
        type=int,
        default=int(os.environ.get("SOAK_NODES", "1")),
        help="web nodes and workers (2: one worker is killed halfway and restarted)",
    )
    parser.add_argument(
        "--restart-after",
        type=int,
        default=int(os.environ.get("SOAK_RESTART_AFTER", "20")),
        help="seconds between the kill and the restart of the worker",
    )
    parser.add_argument(
        "--escalations",
        type=int,
        default=int(os.environ.get("SOAK_ESCALATIONS", "0")),
        help="cases falling overdue during the run (default: ten a minute)",
    )
    options = parser.parse_args()
    if options.nodes > 1 and (not postgres_answers() or os.environ.get("BENCH_SQLITE")):
        raise SystemExit(
            "NODES=2 needs PostgreSQL (every node on one database): none answers on "
            "127.0.0.1:5432, or BENCH_SQLITE is set."
        )
    escalations = options.escalations or max(10, options.seconds // 6)

    stop_on_signals()
    recourse_url, _, engine = prepare(options.cases)
    env = recourse_env(recourse_url) | {
        "SMS_BACKEND": "notifications.backends.ledger.LedgerSmsBackend",
        "EMAIL_BACKEND": "notifications.backends.ledger.LedgerEmailBackend",
        "DELIVERY_LEDGER_FILE": str(LEDGER),
        "NOTIFICATION_CLAIM_TIMEOUT_SECONDS": str(CLAIM_TIMEOUT_SECONDS),
        "DELIVERY_LEDGER_SEND_MS": str(SEND_MS),
    }
    LEDGER.write_bytes(b"")
    facts = probe(env, "facts")
    services = Services()
    problems = []
    try:
        since = time.time()  # every send of the run is marked sent after this
        webs, workers = start_recourse(services, recourse_url, nodes=options.nodes, env=env)
        # Process group (the ledger's second field) -> worker, the restarted one included.
        senders = {str(w.process.pid): w.name for w in workers}
        streams = build_streams(
            facts, env, per_thread=options.seconds * 1000 // options.delay_ms + 500
        )
        log_offsets = {web.name: access_log(web.name).stat().st_size for web in webs}
        before = probe(env, "counts")
        last_notification = before["last_notification"]
        schedule_before = schedule_current(env)
        staged = probe(env, "stage_escalations", escalations, options.seconds)
        print(
            f"Database: {engine}; {facts['cases']:,} cases. Soak: {options.seconds} s, "
            f"{options.nodes} web node(s) on ports {recourse_ports(options.nodes)} and "
            f"{options.nodes} worker(s), {THREADS} connections, {options.delay_ms} ms between "
            f"requests on each; {len(staged['staged'])} cases fall overdue during the run "
            f"({staged['settled']:,} seeded overdue cases set as just escalated)",
            flush=True,
        )
        rss_start = {}
        crash: dict = {}

        def sample_start():
            time.sleep(30)  # after warm-up: imports, caches, first connections
            rss_start.update(rss(webs, workers))

        def kill_and_restart():
            time.sleep(options.seconds / 2)
            victim = workers[-1]
            crash["held"], crash["tries"] = kill_holding_work(services, victim, recourse_url)
            crash["killed_at"] = time.time()
            time.sleep(options.restart_after)
            restarted = start_worker(services, f"{victim.name}-restarted", env)
            crash["restarted_at"] = time.time()
            crash["restarted"] = restarted
            senders[str(restarted.process.pid)] = restarted.name

        helpers = [threading.Thread(target=sample_start, daemon=True)]
        if options.nodes > 1:
            helpers.append(threading.Thread(target=kill_and_restart, daemon=True))
        for helper in helpers:
            helper.start()
        started = time.monotonic()
        result = play(
            streams,
            ports=recourse_ports(options.nodes),
            seconds=options.seconds,
            delay_ms=options.delay_ms,
        )
        for helper in helpers:
            helper.join()
        load_ended = time.monotonic()
        steady_workers = workers[:-1] if options.nodes > 1 else workers
        rss_end = rss(webs, workers)
        drained_after = wait_for_drain(env, last_notification, limit=120)
        after = probe(env, "counts")
        backlog = probe(env, "backlog", last_notification)
        schedule_after = probe(env, "schedule_state")
        stepped = probe(env, "escalations", before["last_audit_event"], *staged["staged"])
        sent_out = probe(env, "deliveries", LEDGER, since, *crash.get("held", []))

        statuses: dict[str, int] = {}
        for web in webs:
            for status, n in logged_statuses(web.name, log_offsets[web.name]).items():
                statuses[status] = statuses.get(status, 0) + n
        sent = [s.summary(n) for s, n in zip(streams, result["sent"], strict=True)]
        expected = {key: sum(summary[key] for summary in sent) for key in sent[0]}
        if sum(result["sent"]) != sum(statuses.values()):
            problems.append(
                f"{sum(result['sent'])} requests answered, {sum(statuses.values())} logged"
            )
        print(
            f"\n{result['requests']:,} responses in {load_ended - started:.0f} s "
            f"({result['rate']:.1f} req/s); p50 {result['p50_us'] / 1000:.1f} ms, "
            f"p99 {result['p99_us'] / 1000:.1f} ms; statuses (server logs): {statuses}"
        )
        for kind, figures in result["by_kind"].items():
            print(
                f"  {kind}: {figures['requests']:,} requests, p50 {figures['p50_ms']:.1f} ms, "
                f"p99 {figures['p99_ms']:.1f} ms"
            )
        if options.nodes > 1:
            print(f"  by port: {result['by_port']}")
        stored = {
            "web complaints": (expected["web"], after["web_cases"] - before["web_cases"]),
            "SMS complaints": (expected["sms_filed"], after["sms_cases"] - before["sms_cases"]),
            "SMS messages": (expected["sms"], after["inbound_sms"] - before["inbound_sms"]),
            "texts added to a filed case": (
                expected["sms_added"],
                after["reporter_messages"] - before["reporter_messages"],
            ),
        }
        for label, (sent_count, stored_count) in stored.items():
            print(f"{label}: {sent_count} sent, {stored_count} stored")
            if sent_count != stored_count:
                problems.append(f"{label}: {sent_count} sent but {stored_count} stored")
        fivexx = sum(n for status, n in statuses.items() if status.startswith("5"))
        if fivexx or result["errors"]:
            problems.append(
                f"{fivexx} responses 5xx, {result['errors']} socket errors or short streams"
            )
        unexpected = {k: v for k, v in statuses.items() if k not in ("200", "302")}
        if unexpected:
            problems.append(f"unexpected statuses {unexpected}")
        new_notifications = after["notifications"] - before["notifications"]
        print(
            f"notifications: {new_notifications} created; after the load: "
            f"{backlog['unsent_notifications']} unsent, {backlog['failed_notifications']} failed, "
            f"{backlog['unsent_texts']} texts and {backlog['unsent_emails']} emails unsent, "
            f"{backlog['queued_tasks']} tasks queued"
        )
        if drained_after is None:
            problems.append(f"queue not drained 120 s after the load: {backlog}")
        else:
            print(f"queue drained {drained_after:.0f} s after the load stopped")
        if expected["web"] + expected["sms_filed"] and not new_notifications:
            problems.append("no routing notification was created")
        if options.nodes > 1 and "restarted" not in crash:
            problems.append(f"the worker was not killed and restarted: {crash}")
            crash = {}
        check_deliveries(sent_out, senders, crash, problems)
        check_escalations(stepped, len(staged["staged"]), problems)
        check_schedule(schedule_before, schedule_after, problems)
        print_memory(rss_start, rss_end, webs, steady_workers, problems)
    finally:
        services.stop()
    if problems:
        print("\n".join(["", "FAILED:"] + problems))
        raise SystemExit(1)
    print("\nsoak passed")


HELD_SQL = " UNION ALL ".join(
    f"SELECT '{label}:' || id FROM {table} WHERE status = 'pending' "
    "AND claimed_at < clock_timestamp() - interval '1 second'"
    for label, table in (
        ("notifications.notification", "notifications_notification"),
        ("notifications.outboundsms", "notifications_outboundsms"),
        ("notifications.outboundemail", "notifications_outboundemail"),
    )
)


def kill_holding_work(services: Services, victim, database_url: str, tries: int = 30):
    """Kill `victim` (SIGKILL to its process group) at a moment it holds claimed rows,
    the hard case: freeze it (SIGSTOP), wait a second (the other worker's sends take
    milliseconds, so any row still claimed a second ago is the frozen one's), and kill
    it frozen if it holds some, else let it go on and try again a moment later. Returns
    the rows it held and the tries it took."""
    import psycopg

    held: list[str] = []
    with psycopg.connect(database_url, autocommit=True) as db:
        for attempt in range(1, tries + 1):
            os.killpg(victim.process.pid, signal.SIGSTOP)
            time.sleep(1.2)
            held = [row[0] for row in db.execute(HELD_SQL).fetchall()]
            if held or attempt == tries:
                services.kill(victim)
                return held, attempt
            os.killpg(victim.process.pid, signal.SIGCONT)
            time.sleep(random.uniform(0.1, 0.8))
    return held, tries


def check_deliveries(sent_out: dict, senders: dict, crash: dict, problems: list):
    """Every send at the network edge (the ledger) against the rows marked sent."""
    channels = ", ".join(f"{n} {what}" for what, n in sorted(sent_out["by_channel"].items()))
    print(f"sends (ledger): {sent_out['sends']} ({channels})")
    by_worker = {
        senders.get(group, f"process group {group}"): n
        for group, n in sent_out["by_process_group"].items()
    }
    print(f"  by worker: {by_worker}")
    if crash:
        restarted = str(crash["restarted"].process.pid)
        first = sent_out["first_by_process_group"].get(restarted)
        resumed = f"{first - crash['restarted_at']:.1f} s" if first else "never"
        print(
            f"worker killed (SIGKILL to its process group) holding {len(crash['held'])} "
            f"claimed rows (caught on try {crash['tries']}), restarted "
            f"{crash['restarted_at'] - crash['killed_at']:.0f} s later; the restarted "
            f"worker's first send {resumed} after its start"
        )
        if first is None:
            problems.append("the restarted worker sent nothing")
        if not crash["held"]:
            problems.append("the worker was killed holding no claimed row")
        for what, times in sent_out["held"].items():
            after = ", ".join(f"{at - crash['killed_at']:.0f} s" for at in times)
            print(
                f"  held {what.split(':')[0].rsplit('.', 1)[-1]}: sent {len(times)}x, {after} after the kill"
            )
            if len(times) != 1:
                problems.append(f"a row the killed worker held was sent {len(times)} times")
    for label, key in (
        ("sent more than once", "twice"),
        ("marked sent with no send", "sent_without_line"),
        ("sent but not marked sent (would be sent again)", "line_but_not_sent"),
    ):
        if sent_out[key]:
            problems.append(f"{len(sent_out[key])} {label}: {sent_out[key][:5]}")
    print(f"duplicates at the network edge: {len(sent_out['twice'])}")
    if sent_out["unnamed"]:
        problems.append(f"{sent_out['unnamed']} sends outside a delivery (no row named)")


def check_escalations(stepped: dict, staged: int, problems: list):
    print(
        f"escalation steps: {stepped['steps']} on {stepped['cases']} cases "
        f"({staged} staged to fall overdue during the run); taken twice: {len(stepped['twice'])}"
    )
    if stepped["twice"]:
        problems.append(f"escalation steps taken twice: {stepped['twice'][:5]}")
    if stepped["staged_not_escalated"]:
        problems.append(f"{len(stepped['staged_not_escalated'])} overdue cases never escalated")


def schedule_current(env: dict, limit: float = 75) -> dict:
    """The schedules once the workers' schedulers have run: before, a next run left from
    an earlier run jumps minutes at once (catch_up off), which is not this run's doing."""
    deadline = time.monotonic() + limit
    while True:
        state = probe(env, "schedule_state")
        late = [job["next_run"] <= state["now"] for job in state["jobs"].values()]
        if not any(late) or time.monotonic() > deadline:
            return state
        time.sleep(3)


def check_schedule(before: dict, after: dict, problems: list):
    """Each minute job: the schedule's next run moved on by N minutes between the two
    readings, so its schedule must have made exactly N tasks in between (one more: a
    second scheduler fired a minute twice; one fewer: a minute was skipped), and each
    must have run (at most the newest still waiting in the queue)."""
    for name, then in before["jobs"].items():
        now = after["jobs"][name]
        minutes = round((now["next_run"] - then["next_run"]) / 60)
        known = set(then["ran"]) | set(then["queued"])
        made = (set(now["ran"]) | set(now["queued"])) - known
        waiting = made - set(now["ran"])
        ran = sorted(now["ran"][task_id] for task_id in made - waiting)
        gaps = [b[0] - a[0] for a, b in itertools.pairwise(ran)]
        retried = sum(attempts > 1 for _started, attempts in ran)
        print(
            f"{name}: {minutes} minute(s), {len(made)} task(s) made from it, {len(ran)} ran"
            + (f" ({retried} run again)" if retried else "")
            + (f", {min(gaps):.0f}-{max(gaps):.0f} s apart" if gaps else "")
        )
        if len(made) != minutes:
            problems.append(f"{name}: {len(made)} tasks in {minutes} minutes")
        if len(waiting) > 1:
            problems.append(f"{name}: {len(waiting)} tasks never ran")


class Stream:
    """One connection's requests, in order, and what each one is."""

    def __init__(self):
        self.requests: list[bytes] = []
        self.kinds: list[str] = []

    def add(self, kind: str, request: bytes):
        self.requests.append(request)
        self.kinds.append(kind)

    def summary(self, sent: int) -> dict:
        """What the first `sent` requests (all answered) should have stored."""
        kinds = self.kinds[:sent]
        return {
            "web": kinds.count("web"),
            "sms": sum(k.startswith("sms") for k in kinds),
            "sms_filed": kinds.count("sms_filed"),
            "sms_added": kinds.count("sms_added"),
        }


def build_streams(facts: dict, env: dict, per_thread: int) -> list[Stream]:
    unit = facts["unit"]
    run_id = secrets.token_hex(4)
    browser = Browser(RECOURSE_PORT)
    form_path = f"/u/{unit}/"
    token = browser.csrf(form_path)
    form_headers = {
        "Cookie": browser.cookie_header(),
        "Referer": f"https://127.0.0.1:{RECOURSE_PORT}{form_path}",
    }
    queue = raw_request(
        "GET",
        RECOURSE_PORT,
        "/staff/",
        headers={"Cookie": f"sessionid={staff_cookie(env, facts['focal'])}"},
    )
    compliance = raw_request(
        "GET",
        RECOURSE_PORT,
        "/staff/compliance/",
        headers={"Cookie": f"sessionid={staff_cookie(env, facts['manager'])}"},
    )
    staff_pages = [queue, queue, queue, compliance]

    def story(stream: Stream, t: int, n: int):
        """10 requests: a child's 6 texts, 3 web complaints, 1 staff page."""
        sender = f"+2216{int(run_id, 16) % 1000:03d}{t}{n:05d}"

        def sms(step: str, body: str, kind: str = "sms"):
            stream.add(
                kind,
                twilio_sms(
                    RECOURSE_PORT,
                    SMS_PATH,
                    sid=f"SM{run_id}{t}{n:08d}{step}",
                    sender=sender,
                    body=body,
                ),
            )

        def web(i: int):
            stream.add(
                "web",
                raw_request(
                    "POST",
                    RECOURSE_PORT,
                    form_path,
                    headers=form_headers,
                    form={
                        "csrfmiddlewaretoken": token,
                        "narrative": f"soak {t}-{n}-{i}: they shouted at me",
                        "category": facts["category"],
                        "in_danger": "no",
                        "about_staff": "yes",
                        "contact_preference": "follow_up_page",
                        "contact_detail": "",
                    },
                ),
            )

        sms("a", f"{unit} the officer took my phone")
        web(1)
        sms("b", "and he pushed me")
        sms("c", "DONE")
        web(2)
        sms("d", "1")
        stream.add("staff", staff_pages[n % len(staff_pages)])
        sms("e", "NO", kind="sms_filed")
        web(3)
        sms("f", "I want to add that it happened twice", kind="sms_added")

    streams = []
    for t in range(THREADS):
        stream = Stream()
        n = 0
        while len(stream.requests) < per_thread:
            story(stream, t, n)
            n += 1
        streams.append(stream)
    return streams


def play(streams: list[Stream], *, ports: list[int], seconds: int, delay_ms: int) -> dict:
    """One thread per stream sends its requests in order, each on a new connection (the
    sync workers close it) to the next of `ports` in turn (a story's requests alternate
    between the web nodes, as behind a load balancer), pausing `delay_ms` between them,
    until `seconds` have passed. Unlike wrk, a request is counted only once its response
    is read, so the stored counts can be checked exactly; at this rate Python is not the
    bottleneck."""
    deadline = time.monotonic() + seconds
    latencies: list[list[tuple[str, float]]] = [[] for _ in streams]
    sent = [0] * len(streams)
    errors = [0] * len(streams)
    by_port = [{port: 0 for port in ports} for _ in streams]

    def run(t: int):
        stream = streams[t]
        for i, request in enumerate(stream.requests):
            if time.monotonic() >= deadline:
                return
            port = ports[(t + i) % len(ports)]
            started = time.monotonic()
            try:
                send(request, port)
            except OSError:
                errors[t] += 1
                return  # the story cannot go on out of order
            latencies[t].append((stream.kinds[i], time.monotonic() - started))
            sent[t] += 1
            by_port[t][port] += 1
            time.sleep(delay_ms / 1000)
        errors[t] += 1  # ran out of requests

    threads = [threading.Thread(target=run, args=(t,)) for t in range(len(streams))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    every = sorted(x for per_thread in latencies for _kind, x in per_thread)
    by_kind: dict[str, list[float]] = {}
    for per_thread in latencies:
        for kind, x in per_thread:
            by_kind.setdefault(kind.split("_")[0], []).append(x)
    return {
        "requests": len(every),
        "rate": len(every) / elapsed,
        "sent": sent,
        "errors": sum(errors),
        "p50_us": every[len(every) // 2] * 1e6,
        "p99_us": every[int(len(every) * 0.99)] * 1e6,
        "by_kind": {
            kind: {
                "requests": len(xs),
                "p50_ms": sorted(xs)[len(xs) // 2] * 1000,
                "p99_ms": sorted(xs)[int(len(xs) * 0.99)] * 1000,
            }
            for kind, xs in sorted(by_kind.items())
        },
        "by_port": {port: sum(counts[port] for counts in by_port) for port in ports},
    }


def send(request: bytes, port: int) -> str:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(request)
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    return response.split(b" ", 2)[1].decode()


def rss(webs: list, workers: list) -> dict:
    return {s.name: sum(s.rss_mib().values()) for s in webs + workers}


def wait_for_drain(env: dict, last_notification: int, limit: int) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        backlog = probe(env, "backlog", last_notification)
        if not any(
            backlog[key]
            for key in ("queued_tasks", "unsent_notifications", "unsent_texts", "unsent_emails")
        ):
            return time.monotonic() - started
        time.sleep(2)
    return None


def logged_statuses(name: str, since: int) -> dict:
    """Status counts of the requests web node `name` logged after byte offset `since`."""
    counts: dict[str, int] = {}
    for line in logged_since(name, since):
        status = line.split(" ", 1)[0]
        counts[status] = counts.get(status, 0) + 1
    return counts


def print_memory(start: dict, end: dict, webs: list, workers: list, problems: list):
    """Every web node and every worker that ran the whole time (not the restarted one)."""
    for service in webs + workers:
        name = service.name
        growth = end[name] - start[name]
        print(
            f"{name} RSS: {start[name]:.0f} MiB after warm-up, {end[name]:.0f} MiB at the end "
            f"({growth:+.0f} MiB)"
        )
        if growth > max(20, start[name] * 0.2):
            problems.append(f"{name} memory grew {growth:.0f} MiB")


if __name__ == "__main__":
    main()
