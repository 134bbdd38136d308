"""`make bench`: Recourse and a minimal Django baseline, side by side, under load.

Both are served by gunicorn (same worker count, same database server); Recourse runs
its production settings with the django-q2 worker consuming. wrk, on 127.0.0.1 in a
second process, replays pre-built requests (each SMS has its own MessageSid and a real
Twilio signature), and every figure is printed beside its baseline. After each run the
stored complaints and messages are counted against the accepted responses.

Its peer, django-helpdesk's public ticket submission (bench/helpdesk_peer.py), is
served the same way in the same run: the web complaint and the SMS new conversation are
also printed as a ratio to it."""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import time
from dataclasses import dataclass

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
    build: object  # () -> list[bytes], called just before the run
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
            f"{os.environ.get('BENCH_WORKERS', '2')} sync workers each; {options.seconds} s per run",
            flush=True,
        )
        results = {}
        chosen = scenarios(facts, options.seconds, env, results)
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
        for scenario in chosen:
            results[scenario.name] = measure(scenario, options.seconds, *servers[scenario.port])
        print_table(results, kdf_ms)
        problems = check(results)
    finally:
        services.stop()
    if problems:
        print("\n".join(["", "FAILED:"] + problems))
        raise SystemExit(1)


def scenarios(facts: dict, seconds: int, env: dict, results: dict) -> list[Scenario]:
    """Every request is built before its run: nothing is signed or encoded while wrk runs."""
    unit = facts["unit"]
    volume = max(20_000, seconds * 2_500)  # more than the fastest run can send
    run_id = secrets.token_hex(3)
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

    def sender(i: int) -> str:
        return f"+2217{int(run_id, 16) % 100:02d}{i:06d}"

    def sms(port, path, i, body, kind="n"):
        return twilio_sms(port, path, sid=f"SM{run_id}{kind}{i:025d}", sender=sender(i), body=body)

    def follow_ups():
        # Second texts from numbers that opened a conversation in sms_new. wrk's two
        # threads take alternate requests, so the first 80% of the accepted count is
        # safely among those sent.
        opened = max(1, int(results["sms_new"].accepted * 0.8))
        return [
            twilio_sms(
                RECOURSE_PORT,
                sms_path,
                sid=f"SM{run_id}f{i:025d}",
                sender=sender(i % opened),
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
            lambda: [sms(BASELINE_PORT, "/sms/", i, NARRATIVES[i % 4]) for i in range(volume)],
            200,
            "POST",
            "/sms/",
        ),
        Scenario(
            "sms_new",
            "SMS webhook, new conversation",
            RECOURSE_PORT,
            lambda: [
                sms(RECOURSE_PORT, sms_path, i, f"{unit} {NARRATIVES[i % 4]}")
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
            lambda: [
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
            lambda: [
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
            lambda: helpdesk.submissions(volume // 4, NARRATIVES),
            helpdesk.SUBMITTED_STATUS,
            "POST",
            helpdesk.SUBMIT_PATH,
            baseline="baseline_form_post",
        ),
        Scenario(
            "followup_lookup",
            "follow-up page lookup",
            RECOURSE_PORT,
            lambda: [
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
            lambda: [raw_request("GET", BASELINE_PORT, "/form/")] * volume,
            200,
            "GET",
            "/form/",
        ),
        Scenario(
            "start_page",
            "reporter start page",
            RECOURSE_PORT,
            lambda: [raw_request("GET", RECOURSE_PORT, "/")] * volume,
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
            lambda: [raw_request("GET", RECOURSE_PORT, "/staff/", headers=queue_cookie)] * volume,
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
            lambda: (
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


def measure(scenario: Scenario, seconds: int, web, worker, env: dict) -> Measured:
    path = write_requests(scenario.name, scenario.build())
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
        ratio = f"{m.result['rate'] / base.result['rate']:.0%}" if base else ""
        print(
            f"{m.scenario.label:34} {m.result['rate']:8.0f} {m.result['p50_us'] / 1000:8.1f} "
            f"{m.result['p99_us'] / 1000:8.1f} {m.cpu_ms:11.2f} {m.worker_ms:8.2f} {ratio:>7} "
            f"{peer_ratio(results, m):>9}  {m.scenario.target}"
        )
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


def peer_ratio(results: dict, m: Measured) -> str:
    """Recourse's req/s over its peer's (1.50x: half as fast again as helpdesk)."""
    peer = results.get(m.scenario.peer) if m.scenario.peer else None
    if not peer or not peer.result["rate"]:
        return ""
    return f"{m.result['rate'] / peer.result['rate']:.2f}x"


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
        served_count, stored_count = m.result["served"], m.result.get("stored")
        if not m.accepted <= served_count <= m.accepted + m.scenario.connections:
            problems.append(
                f"{name}: wrk saw {m.accepted} accepted, the server logged {served_count}"
            )
        if stored_count is not None:
            print(
                f"{m.scenario.label}: {served_count} accepted by the server "
                f"({m.accepted} answered before wrk stopped), {stored_count} stored"
            )
            if stored_count != served_count:
                problems.append(f"{name}: {served_count} accepted but {stored_count} stored")
    return problems


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"\nbench finished in {time.monotonic() - started:.0f} s ({VAR})")
