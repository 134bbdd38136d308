"""`make soak`: ten minutes of mixed load on Recourse (production settings, gunicorn,
the django-q2 worker consuming): SMS 60%, web 30%, staff pages 10%.

Four client threads (Python: at this rate it is not the bottleneck, and unlike wrk it
counts a request only once its response is read) each play whole stories in order: a child's SMS
conversation (unit and story, more story, DONE, category, danger answer, then a later
text added to the filed case), web complaints, a staff page. Afterwards it checks: no
5xx; every complaint and message sent is stored exactly once; every routing
notification is sent; the queue drains within two minutes; memory stays flat."""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))

from harness import (  # noqa: E402
    RECOURSE_PORT,
    Browser,
    Services,
    access_log,
    logged_since,
    prepare,
    probe,
    raw_request,
    recourse_env,
    staff_cookie,
    start_recourse,
    stop_on_signals,
    twilio_sms,
)

THREADS = 4
SMS_PATH = "/sms/twilio/inbound/"


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
    options = parser.parse_args()

    stop_on_signals()
    recourse_url, _, engine = prepare(options.cases)
    env = recourse_env(recourse_url)
    facts = probe(env, "facts")
    services = Services()
    problems = []
    try:
        web, worker = start_recourse(services, recourse_url)
        streams = build_streams(
            facts, env, per_thread=options.seconds * 1000 // options.delay_ms + 500
        )
        log_offset = access_log("recourse-web").stat().st_size
        before = probe(env, "counts")
        last_notification = before["last_notification"]
        print(
            f"Database: {engine}; {facts['cases']:,} cases. Soak: {options.seconds} s, {THREADS} "
            f"connections, {options.delay_ms} ms between requests on each",
            flush=True,
        )
        rss_start = {}

        def sample_start():
            time.sleep(30)  # after warm-up: imports, caches, first connections
            rss_start.update(rss(web, worker))

        sampler = threading.Thread(target=sample_start, daemon=True)
        sampler.start()
        started = time.monotonic()
        result = play(streams, seconds=options.seconds, delay_ms=options.delay_ms)
        sampler.join()
        load_ended = time.monotonic()
        rss_end = rss(web, worker)
        drained_after = wait_for_drain(env, last_notification, limit=120)
        after = probe(env, "counts")
        backlog = probe(env, "backlog", last_notification)

        statuses = logged_statuses(log_offset)
        sent = [s.summary(n) for s, n in zip(streams, result["sent"], strict=True)]
        expected = {key: sum(summary[key] for summary in sent) for key in sent[0]}
        if sum(result["sent"]) != sum(statuses.values()):
            problems.append(
                f"{sum(result['sent'])} requests answered, {sum(statuses.values())} logged"
            )
        print(
            f"\n{result['requests']:,} responses in {load_ended - started:.0f} s "
            f"({result['rate']:.1f} req/s); p50 {result['p50_us'] / 1000:.1f} ms, "
            f"p99 {result['p99_us'] / 1000:.1f} ms; statuses (server log): {statuses}"
        )
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
            f"routing notifications: {new_notifications} created; after the load: "
            f"{backlog['unsent_notifications']} unsent, {backlog['failed_notifications']} failed, "
            f"{backlog['queued_tasks']} tasks queued"
        )
        if drained_after is None:
            problems.append(f"queue not drained 120 s after the load: {backlog}")
        else:
            print(f"queue drained {drained_after:.0f} s after the load stopped")
        if expected["web"] + expected["sms_filed"] and not new_notifications:
            problems.append("no routing notification was created")
        print_memory(rss_start, rss_end, problems)
    finally:
        services.stop()
    if problems:
        print("\n".join(["", "FAILED:"] + problems))
        raise SystemExit(1)
    print("\nsoak passed")


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


def play(streams: list[Stream], *, seconds: int, delay_ms: int) -> dict:
    """One thread per stream sends its requests in order, each on a new connection (the
    sync workers close it), pausing `delay_ms` between them, until `seconds` have
    passed. Unlike wrk, a request is counted only once its response is read, so the
    stored counts can be checked exactly; at this rate Python is not the bottleneck."""
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in streams]
    sent = [0] * len(streams)
    errors = [0] * len(streams)
    statuses: list[dict] = [{} for _ in streams]

    def run(t: int):
        for request in streams[t].requests:
            if time.monotonic() >= deadline:
                return
            started = time.monotonic()
            try:
                status = send(request)
            except OSError:
                errors[t] += 1
                return  # the story cannot go on out of order
            latencies[t].append(time.monotonic() - started)
            sent[t] += 1
            statuses[t][status] = statuses[t].get(status, 0) + 1
            time.sleep(delay_ms / 1000)
        errors[t] += 1  # ran out of requests

    threads = [threading.Thread(target=run, args=(t,)) for t in range(len(streams))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    every = sorted(x for per_thread in latencies for x in per_thread)
    merged: dict[str, int] = {}
    for per_thread in statuses:
        for status, n in per_thread.items():
            merged[status] = merged.get(status, 0) + n
    return {
        "requests": len(every),
        "rate": len(every) / elapsed,
        "sent": sent,
        "errors": sum(errors),
        "p50_us": every[len(every) // 2] * 1e6,
        "p99_us": every[int(len(every) * 0.99)] * 1e6,
        "statuses": merged,
        "wrapped": 0,
    }


def send(request: bytes) -> str:
    with socket.create_connection(("127.0.0.1", RECOURSE_PORT), timeout=30) as conn:
        conn.sendall(request)
        response = b""
        while chunk := conn.recv(65536):
            response += chunk
    return response.split(b" ", 2)[1].decode()


def rss(web, worker) -> dict:
    return {"web": sum(web.rss_mib().values()), "worker": sum(worker.rss_mib().values())}


def wait_for_drain(env: dict, last_notification: int, limit: int) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        backlog = probe(env, "backlog", last_notification)
        if not backlog["queued_tasks"] and not backlog["unsent_notifications"]:
            return time.monotonic() - started
        time.sleep(2)
    return None


def logged_statuses(since: int) -> dict:
    """Status counts of the requests the server logged after byte offset `since`."""
    counts: dict[str, int] = {}
    for line in logged_since("recourse-web", since):
        status = line.split(" ", 1)[0]
        counts[status] = counts.get(status, 0) + 1
    return counts


def print_memory(start: dict, end: dict, problems: list):
    for name in ("web", "worker"):
        growth = end[name] - start[name]
        print(
            f"{name} RSS: {start[name]:.0f} MiB after warm-up, {end[name]:.0f} MiB at the end "
            f"({growth:+.0f} MiB)"
        )
        if growth > max(20, start[name] * 0.2):
            problems.append(f"{name} memory grew {growth:.0f} MiB")


if __name__ == "__main__":
    main()
