"""`make bench`: Recourse and a minimal Django baseline, side by side, under load.

Both are served by gunicorn (same worker count, same database server); Recourse runs
its production settings with the django-q2 worker consuming. wrk, on 127.0.0.1 in a
second process, replays pre-built requests (each SMS has its own MessageSid and a real
Twilio signature), and every figure is printed beside its baseline. After each run the
stored complaints and messages are counted against the accepted responses.

The scenarios run in rounds (BENCH_ROUNDS, 3), each round every scenario in turn, so a
scenario and its baseline are measured minutes apart at most and the machine's load
changes land on both: a ratio is the median of its rounds' ratios, and latencies are
percentiles of all the rounds' requests pooled.

Its peer, django-helpdesk's public ticket submission (bench/helpdesk_peer.py), is
served the same way in the same run: the web complaint and the SMS new conversation are
also printed as a ratio to it."""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field

sys.path.insert(0, os.path.dirname(__file__))

import helpdesk_peer as helpdesk  # noqa: E402
from harness import (  # noqa: E402
    BASELINE_PORT,
    RECOURSE_PORT,
    VAR,
    Browser,
    Services,
    access_log,
    log_settled,
    logged_since,
    prepare,
    probe,
    raw_request,
    recourse_env,
    staff_cookie,
    start_baseline,
    start_recourse,
    stop_on_signals,
    twilio_sms,
    write_requests,
    wrk,
)

NARRATIVES = [
    "the officer at the desk pushed me and shouted",
    "they kept me in the room all night without food",
    "the guard took my phone and laughed at me",
    "nobody told my mother where I was",
]


PEER_SCENARIO = "helpdesk_submit"


@dataclass
class Scenario:
    name: str
    label: str
    port: int
    build: object  # (round) -> list[bytes], called just before each round's run
    accepted: int  # the status a response counts as accepted with
    method: str  # and the request line it answers, as the access log has it
    path: str  # the status a request counts as accepted with
    baseline: str | None = None
    connections: int = 8
    target: str = ""
    peer: str | None = None  # the peer scenario its req/s is also divided by


@dataclass
class Measured:
    scenario: Scenario
    result: dict
    cpu_ms: float  # the web server's, per request
    worker_ms: float  # the django-q2 worker's, per request
    rounds: list[Measured] = field(default_factory=list)  # when pooled from rounds

    @property
    def accepted(self) -> int:
        """Accepted responses wrk received (those in flight when it stopped are not)."""
        return self.result["statuses"].get(str(self.scenario.accepted), 0)

    @property
    def unexpected(self) -> dict:
        return {
            k: v for k, v in self.result["statuses"].items() if k != str(self.scenario.accepted)
        }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "10")))
    parser.add_argument("--cases", type=int, default=int(os.environ.get("BENCH_CASES", "100000")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "3")))
    parser.add_argument(
        "--only",
        default=os.environ.get("BENCH_ONLY", ""),
        help="comma-separated scenario names (their baselines run too)",
    )
    options = parser.parse_args()

    stop_on_signals()
    recourse_url, baseline_url, engine = prepare(options.cases)
    env = recourse_env(recourse_url)
    facts = probe(env, "facts")
    kdf_ms = probe(env, "kdf_ms")
    services = Services()
    try:
        (web,), (worker,) = start_recourse(services, recourse_url)
        baseline = start_baseline(services, baseline_url)
        print(
            f"Database: {engine}; {facts['cases']:,} cases; gunicorn: "
            f"{os.environ.get('BENCH_WORKERS', '2')} sync workers each; {options.rounds} rounds "
            f"of {options.seconds} s per scenario",
            flush=True,
        )
        rounds = {}  # scenario name -> its rounds so far
        chosen = scenarios(facts, options.seconds, env, rounds)
        if options.only:
            names = set(options.only.split(","))
            names |= {s.baseline for s in chosen if s.name in names and s.baseline}
            names |= {"sms_new"} if "sms_follow" in names else set()
            names |= {s.peer for s in chosen if s.name in names and s.peer}
            chosen = [s for s in chosen if s.name in names]
        servers = {RECOURSE_PORT: (web, worker, env), BASELINE_PORT: (baseline, None, env)}
        if any(s.port == helpdesk.HELPDESK_PORT for s in chosen):
            peer_env = helpdesk.prepare(recourse_url)
            servers[helpdesk.HELPDESK_PORT] = (helpdesk.start(services, peer_env), None, peer_env)
        for round_no in range(options.rounds):
            print(f"Round {round_no + 1} of {options.rounds}", flush=True)
            for scenario in chosen:
                measured = measure(scenario, round_no, options.seconds, *servers[scenario.port])
                rounds.setdefault(scenario.name, []).append(measured)
        results = {name: pooled(measured) for name, measured in rounds.items()}
        print_table(results, kdf_ms)
        problems = check(results)
    finally:
        services.stop()
    if problems:
        print("\n".join(["", "FAILED:"] + problems))
        raise SystemExit(1)


def scenarios(facts: dict, seconds: int, env: dict, rounds: dict) -> list[Scenario]:
    """Every request is built before its run: nothing is signed or encoded while wrk runs.
    Each round's texts come from numbers and carry MessageSids of their own."""
    unit = facts["unit"]
    volume = max(20_000, seconds * 2_500)  # more than the fastest run can send
    run_id = secrets.token_hex(4)
    browser = Browser(RECOURSE_PORT)
    form_path = f"/u/{unit}/"
    token = browser.csrf(form_path)
    csrf_headers = {
        "Cookie": browser.cookie_header(),
        "Referer": f"https://127.0.0.1:{RECOURSE_PORT}{form_path}",
    }
    complaint = {
        "csrfmiddlewaretoken": token,
        "category": facts["category"],
        "in_danger": "no",
        "about_staff": "yes",
        "contact_preference": "follow_up_page",
        "contact_detail": "",
    }
    codes = followup_codes(browser, form_path, complaint, 24)
    lookup_token = browser.csrf("/follow-up/")
    lookup_headers = {
        "Cookie": browser.cookie_header(),
        "Referer": f"https://127.0.0.1:{RECOURSE_PORT}/follow-up/",
    }
    queue_cookie = {"Cookie": f"sessionid={staff_cookie(env, facts['focal'])}"}
    manager_cookie = {"Cookie": f"sessionid={staff_cookie(env, facts['manager'])}"}

    def sender(round_no: int, i: int) -> str:
        # 15 digits, E.164's most: 4 of the run's own, so runs on one database don't
        # share numbers (a number that wrote before would make a "new" text a follow-up).
        return f"+2217{int(run_id, 16) % 10_000:04d}{round_no * volume + i:07d}"

    def sms(port, path, round_no, i, body, kind="n"):
        return twilio_sms(
            port,
            path,
            sid=f"SM{run_id}{kind}{round_no:02d}{i:022d}",
            sender=sender(round_no, i),
            body=body,
        )

    def follow_ups(round_no):
        # Second texts from numbers that opened a conversation in this round's sms_new.
        # wrk's two threads take alternate requests, so the first 80% of the accepted
        # count is safely among those sent.
        opened = max(1, int(rounds["sms_new"][round_no].accepted * 0.8))
        return [
            twilio_sms(
                RECOURSE_PORT,
                sms_path,
                sid=f"SM{run_id}f{round_no:02d}{i:022d}",
                sender=sender(round_no, i % opened),
                body="and then he said it was my fault",
            )
            for i in range(volume)
        ]

    sms_path = "/sms/twilio/inbound/"
    return [
        Scenario(
            "baseline_webhook",
            "baseline: signed webhook + insert",
            BASELINE_PORT,
            lambda r: [sms(BASELINE_PORT, "/sms/", r, i, NARRATIVES[i % 4]) for i in range(volume)],
            200,
            "POST",
            "/sms/",
        ),
        Scenario(
            "sms_new",
            "SMS webhook, new conversation",
            RECOURSE_PORT,
            lambda r: [
                sms(RECOURSE_PORT, sms_path, r, i, f"{unit} {NARRATIVES[i % 4]}")
                for i in range(volume)
            ],
            200,
            "POST",
            sms_path,
            baseline="baseline_webhook",
            target=">= 50% of baseline, p99 < 50 ms",
            peer=PEER_SCENARIO,
        ),
        Scenario(
            "sms_follow",
            "SMS webhook, follow-up message",
            RECOURSE_PORT,
            follow_ups,
            200,
            "POST",
            sms_path,
            baseline="baseline_webhook",
            target=">= 50% of baseline, p99 < 50 ms",
        ),
        Scenario(
            "baseline_form_post",
            "baseline: 3-field form + insert",
            BASELINE_PORT,
            lambda _: [
                raw_request(
                    "POST",
                    BASELINE_PORT,
                    "/form/",
                    form={
                        "name": f"Child {i}",
                        "email": f"c{i}@example.org",
                        "message": NARRATIVES[i % 4],
                    },
                )
                for i in range(volume)
            ],
            200,
            "POST",
            "/form/",
        ),
        Scenario(
            "web_submit",
            "web complaint submission",
            RECOURSE_PORT,
            lambda _: [
                raw_request(
                    "POST",
                    RECOURSE_PORT,
                    form_path,
                    form={**complaint, "narrative": NARRATIVES[i % 4]},
                    headers=csrf_headers,
                )
                for i in range(volume // 10)
            ],
            200,
            "POST",
            form_path,
            baseline="baseline_form_post",
            target=">= 20 complaints/s",
            peer=PEER_SCENARIO,
        ),
        # The peer: what a unit might run instead of Recourse's web and SMS intake.
        Scenario(
            PEER_SCENARIO,
            "peer: django-helpdesk submit",
            helpdesk.HELPDESK_PORT,
            lambda _: helpdesk.submissions(volume // 4, NARRATIVES),
            helpdesk.SUBMITTED_STATUS,
            "POST",
            helpdesk.SUBMIT_PATH,
            baseline="baseline_form_post",
        ),
        Scenario(
            "followup_lookup",
            "follow-up page lookup",
            RECOURSE_PORT,
            lambda _: [
                raw_request(
                    "POST",
                    RECOURSE_PORT,
                    "/follow-up/",
                    headers=lookup_headers,
                    form={"csrfmiddlewaretoken": lookup_token, "reference": ref, "code": code},
                )
                for i in range(volume // 10)
                for ref, code in [codes[i % len(codes)]]
            ],
            302,
            "POST",
            "/follow-up/",
            baseline="baseline_form_post",
        ),
        Scenario(
            "baseline_form_get",
            "baseline: render the form",
            BASELINE_PORT,
            lambda _: [raw_request("GET", BASELINE_PORT, "/form/")] * volume,
            200,
            "GET",
            "/form/",
        ),
        Scenario(
            "start_page",
            "reporter start page",
            RECOURSE_PORT,
            lambda _: [raw_request("GET", RECOURSE_PORT, "/")] * volume,
            200,
            "GET",
            "/",
            baseline="baseline_form_get",
            target=">= 50% of baseline",
        ),
        # A handful of staff work at once: measured at 2 connections, one per worker.
        Scenario(
            "staff_queue",
            "staff queue page (2 conns)",
            RECOURSE_PORT,
            lambda _: [raw_request("GET", RECOURSE_PORT, "/staff/", headers=queue_cookie)] * volume,
            200,
            "GET",
            "/staff/",
            baseline="baseline_form_get",
            connections=2,
            target="p99 < 200 ms",
        ),
        Scenario(
            "compliance",
            "compliance dashboard (2 conns)",
            RECOURSE_PORT,
            lambda _: (
                [raw_request("GET", RECOURSE_PORT, "/staff/compliance/", headers=manager_cookie)]
                * volume
            ),
            200,
            "GET",
            "/staff/compliance/",
            baseline="baseline_form_get",
            connections=2,
            target="p99 < 500 ms",
        ),
    ]


def followup_codes(
    browser: Browser, form_path: str, complaint: dict, count: int
) -> list[tuple[str, str]]:
    """File real complaints through the server and keep their reference and code."""
    codes = []
    for i in range(count):
        status, page, _ = browser.fetch(form_path, {**complaint, "narrative": f"lookup case {i}"})
        assert status == 200, (status, page[:500])
        codes.append(receipt(page))
    return codes


def receipt(page: str) -> tuple[str, str]:
    """The reference and follow-up code the confirmation page shows, each in its own
    left-to-right island (<bdi dir="ltr">, intake's |ltr) since Arabic came."""

    def shown(element_id: str) -> str:
        match = re.search(rf'id="{element_id}"[^>]*>\s*(?:<bdi[^>]*>)?([^<]+)<', page)
        if not match:
            raise SystemExit(f"the confirmation page shows no {element_id}:\n{page[:500]}")
        return match.group(1).strip()

    return shown("case-reference"), shown("followup-code")


def measure(scenario: Scenario, round_no: int, seconds: int, web, worker, env: dict) -> Measured:
    path = write_requests(scenario.name, scenario.build(round_no))
    before = counted(web.name, env)
    log_offset = access_log(web.name).stat().st_size
    web_cpu, worker_cpu = web.cpu_seconds(), worker.cpu_seconds() if worker else 0
    result = wrk(scenario.port, path, seconds=seconds, connections=scenario.connections)
    log_settled(web.name)  # the requests in flight when wrk stopped have finished
    per_request = 1000 / max(result["requests"], 1)
    measured = Measured(
        scenario,
        result,
        (web.cpu_seconds() - web_cpu) * per_request,
        ((worker.cpu_seconds() - worker_cpu) * per_request) if worker else 0,
    )
    accepted_line = f"{scenario.accepted} {scenario.method} {scenario.path}"
    result["served"] = logged_since(web.name, log_offset).count(accepted_line)
    if before is not None:
        result["stored"] = stored(scenario.name, before, counted(web.name, env))
    print(
        f"  {scenario.label}: {result['rate']:.0f} req/s, p99 {result['p99_us'] / 1000:.1f} ms",
        flush=True,
    )
    return measured


def pooled(rounds: list[Measured]) -> Measured:
    """One scenario's rounds as one: the median round's rate and CPU, the latency
    percentiles of every request of every round, the statuses and counts summed."""
    if len(rounds) == 1:
        return rounds[0]
    results = [m.result for m in rounds]
    statuses = {}
    for result in results:
        for status, n in result["statuses"].items():
            statuses[status] = statuses.get(status, 0) + n
    stored_counts = [result.get("stored") for result in results]
    result = {
        "rate": statistics.median(r["rate"] for r in results),
        "requests": sum(r["requests"] for r in results),
        "p50_us": pooled_percentile(results, 50),
        "p99_us": pooled_percentile(results, 99),
        "errors": sum(r["errors"] for r in results),
        "wrapped": max(r["wrapped"] for r in results),
        "statuses": statuses,
        "served": sum(r["served"] for r in results),
    }
    if None not in stored_counts:
        result["stored"] = sum(stored_counts)
    return Measured(
        rounds[0].scenario,
        result,
        statistics.median(m.cpu_ms for m in rounds),
        statistics.median(m.worker_ms for m in rounds),
        rounds,
    )


def pooled_percentile(results: list[dict], percent: float) -> float:
    """The latency under which `percent` of all the rounds' requests were answered, from
    each round's latency at every tenth of a percent (replay.lua), weighted by its count."""
    points = sorted(
        (latency, result["requests"] / len(result["permille_us"]))
        for result in results
        for latency in result["permille_us"]
    )
    wanted = sum(r["requests"] for r in results) * percent / 100
    reached = 0.0
    for latency, weight in points:
        reached += weight
        if reached >= wanted - 1e-9:
            return latency
    return points[-1][0]


def ratio(m: Measured, base: Measured) -> float:
    """The scenario's rate over its baseline's: the median of the rounds' ratios, each
    round's pair measured minutes apart, so the machine's drift cancels."""
    if m.rounds and len(m.rounds) == len(base.rounds):
        return statistics.median(
            a.result["rate"] / b.result["rate"] for a, b in zip(m.rounds, base.rounds, strict=True)
        )
    return m.result["rate"] / base.result["rate"]


def counted(server: str, env: dict) -> dict | None:
    """What the server's database holds, for the servers whose runs are checked."""
    if server == "recourse-web":
        return probe(env, "counts")
    if server == "helpdesk-web":
        return {"tickets": helpdesk.probe(env, "tickets")}
    return None


def stored(name: str, before: dict, after: dict) -> int | None:
    """How many complaints or messages the run stored, to set against accepted responses."""
    delta = {key: after[key] - before[key] for key in before}
    if name in ("sms_new", "sms_follow"):
        return delta["inbound_sms"]
    if name == "web_submit":
        return delta["web_cases"]
    if name == PEER_SCENARIO:
        return delta["tickets"]
    return None


def print_table(results: dict, kdf_ms: float):
    header = (
        f"{'':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} {'+worker':>8} "
        f"{'ratio':>7} {'÷helpdesk':>9}  target"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for m in results.values():
        base = results.get(m.scenario.baseline) if m.scenario.baseline else None
        shown = f"{ratio(m, base):.0%}" if base else ""
        print(
            f"{m.scenario.label:34} {m.result['rate']:8.0f} {m.result['p50_us'] / 1000:8.1f} "
            f"{m.result['p99_us'] / 1000:8.1f} {m.cpu_ms:11.2f} {m.worker_ms:8.2f} {shown:>7} "
            f"{peer_ratio(results, m):>9}  {m.scenario.target}"
        )
    print_rounds(results)
    print(
        f"\nFollow-up code KDF (Argon2id, production cost): {kdf_ms:.0f} ms per derivation; a web "
        "submission pays it once, a follow-up lookup once."
    )
    print(
        "÷helpdesk: req/s over django-helpdesk's public ticket submission in the same run "
        f"({helpdesk.PEER_VERSION}, its own virtual environment, same gunicorn settings)."
    )
    print(
        "CPU ms/req: the gunicorn master and workers, from /proc; +worker: the django-q2 "
        "worker in the same run (notifications, sweeps); the database server's CPU is not counted."
    )


def print_rounds(results: dict):
    """Each round's ratio and p99, so the spread behind a median is in view."""
    lines = []
    for m in results.values():
        base = results.get(m.scenario.baseline) if m.scenario.baseline else None
        if not m.rounds:
            continue
        each = ", ".join(
            (f"{a.result['rate'] / b.result['rate']:.0%} " if base else "")
            + f"p99 {a.result['p99_us'] / 1000:.1f} ms"
            for a, b in zip(m.rounds, base.rounds if base else m.rounds, strict=True)
        )
        lines.append(f"  {m.scenario.label:34} {each}")
    if lines:
        print("\nBy round (ratio to the baseline in the same round; p99):")
        print("\n".join(lines))


def peer_ratio(results: dict, m: Measured) -> str:
    """Recourse's req/s over its peer's (1.50x: half as fast again as helpdesk)."""
    peer = results.get(m.scenario.peer) if m.scenario.peer else None
    if not peer or not peer.result["rate"]:
        return ""
    return f"{ratio(m, peer):.2f}x"


def check(results: dict) -> list[str]:
    """Nothing lost, nothing doubled: what the server answered as accepted (its access
    log, which includes the requests in flight when wrk stopped) equals what was stored."""
    problems = []
    print()
    for name, m in results.items():
        if m.result["wrapped"]:
            problems.append(f"{name}: ran out of distinct requests (raise the volume)")
        if m.result["errors"]:
            problems.append(f"{name}: {m.result['errors']} socket errors/timeouts")
        if m.unexpected:
            problems.append(f"{name}: unexpected statuses {m.unexpected}")
        for number, one in enumerate(m.rounds or [m], 1):
            which = f"{name}, round {number}" if m.rounds else name
            served_one, stored_one = one.result["served"], one.result.get("stored")
            # Requests in flight when wrk stopped were served but not seen by wrk.
            if not one.accepted <= served_one <= one.accepted + m.scenario.connections:
                problems.append(
                    f"{which}: wrk saw {one.accepted} accepted, the server logged {served_one}"
                )
            if stored_one is not None and stored_one != served_one:
                problems.append(f"{which}: {served_one} accepted but {stored_one} stored")
        served_count, stored_count = m.result["served"], m.result.get("stored")
        if stored_count is not None:
            print(
                f"{m.scenario.label}: {served_count} accepted by the server "
                f"({m.accepted} answered before wrk stopped), {stored_count} stored"
            )
    return problems


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"\nbench finished in {time.monotonic() - started:.0f} s ({VAR})")
