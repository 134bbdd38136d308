"""`make bench` runs every scenario in rounds and pools them (bench/run.py): a ratio is
the median of the rounds' ratios, so a machine slowing down between a scenario and its
baseline does not move it; latency percentiles are over every round's requests; and
nothing lost in one round hides behind a surplus in another."""

import pytest

from bench.run import Measured, Scenario, check, pooled, pooled_percentile, ratio


def one_round(name: str, rate: float, requests: int, latency_us: list[int], **counts) -> Measured:
    """A round as replay.lua reports it: its latency at every tenth of a percent."""
    permille = sorted(latency_us[i * len(latency_us) // 1000] for i in range(1000))
    result = {
        "rate": rate,
        "requests": requests,
        "p50_us": permille[499],
        "p99_us": permille[989],
        "permille_us": permille,
        "errors": 0,
        "wrapped": 0,
        "statuses": {"200": counts.get("accepted", requests)},
        "served": counts.get("served", requests),
    }
    if "stored" in counts:
        result["stored"] = counts["stored"]
    scenario = Scenario(name, name, 0, list, 200, "POST", "/", connections=8)
    return Measured(scenario, result, 2.0, 0.5)


def test_the_ratio_is_the_median_of_each_rounds_ratio_to_its_own_baseline():
    # The machine halves its speed in round 2: both slow together.
    base = pooled([one_round("b", r, 100, [1000]) for r in (1000, 500, 1000)])
    sms = pooled([one_round("s", r, 100, [1000]) for r in (480, 300, 520)])
    assert ratio(sms, base) == pytest.approx(0.52)  # rounds: 48%, 60%, 52%
    # Medians taken apart would pair round 1's sms with another round's baseline.
    assert sms.result["rate"] / base.result["rate"] == pytest.approx(0.48)


def test_latency_percentiles_pool_every_request_of_every_round():
    fast = one_round("s", 900, 900, [10_000])  # 900 requests, all 10 ms
    slow = one_round("s", 100, 100, [100_000])  # 100 requests, all 100 ms
    both = pooled([fast, slow])
    assert both.result["p50_us"] == 10_000
    assert both.result["p99_us"] == 100_000  # 10% of requests took 100 ms: not hidden
    assert both.result["requests"] == 1000

    nearly = [one_round("s", 990, 990, [10_000]), one_round("s", 10, 10, [100_000])]
    assert pooled_percentile([m.result for m in nearly], 99) == 10_000  # exactly 99% by 10 ms
    assert pooled_percentile([m.result for m in nearly], 99.5) == 100_000


def test_statuses_and_counts_are_summed_over_rounds():
    rounds = [
        one_round("s", 10, 100, [1000], stored=100),
        one_round("s", 10, 50, [1000], stored=50),
    ]
    both = pooled(rounds)
    assert both.result["statuses"] == {"200": 150}
    assert both.result["served"] == both.result["stored"] == 150
    assert both.rounds == rounds


def test_a_round_that_lost_a_message_is_reported_even_if_another_stored_one_more():
    lost = one_round("sms_new", 10, 100, [1000], stored=99)
    doubled = one_round("sms_new", 10, 100, [1000], stored=101)
    problems = check({"sms_new": pooled([lost, doubled])})
    assert problems == [
        "sms_new, round 1: 100 accepted but 99 stored",
        "sms_new, round 2: 100 accepted but 101 stored",
    ]


def test_a_round_whose_server_log_disagrees_with_wrk_is_reported():
    # The server may log up to one request per connection that wrk stopped waiting for.
    fine = one_round("sms_new", 10, 100, [1000], served=108, stored=108)
    extra = one_round("sms_new", 10, 100, [1000], served=109, stored=109)
    assert check({"sms_new": pooled([fine, fine])}) == []
    assert check({"sms_new": pooled([fine, extra])}) == [
        "sms_new, round 2: wrk saw 100 accepted, the server logged 109"
    ]
