"""`make bench` compares loads run back to back, round by round, and reports the medians of the rounds' ratios."""

from __future__ import annotations

from benchmarks.bench import compare_rounds, print_report


def load(per_second: float, p50: float, p95: float) -> dict[str, float]:
    return {"n": 500, "per_second": per_second, "p50_ms": p50, "p95_ms": p95, "p99_ms": p95}


def test_a_slow_spell_of_the_machine_moves_both_sides_of_a_round_and_the_ratios_hold(capsys):
    rounds = [
        {"stock": load(20, 200, 1400), "frontline": load(40, 130, 700), "rasa_alone": load(42, 120, 650)},
        {"stock": load(10, 400, 2800), "frontline": load(19, 260, 1400), "rasa_alone": load(21, 250, 1300)},
        {"stock": load(16, 250, 1800), "frontline": load(33, 170, 900), "rasa_alone": load(34, 150, 850)},
    ]
    report = compare_rounds(rounds)
    assert [r["throughput"] for r in report["load"]["ratios"]] == [2.0, 1.9, 2.06]
    assert report["load"]["throughput_ratio"] == 2.0
    assert report["load"]["p95_ratio"] == 0.5
    assert report["load"]["median_round"] == 1
    assert report["hub_overhead"]["p50_percent"] == 8.3
    report["load"] |= {"customers": 10, "turns_each": 50}
    report["long_conversation"] = {
        "turns": 200,
        "stock": {"turns_1_10_ms": 40.0, "last_10_ms": 150.0, "growth": 3.75},
        "frontline": {"turns_1_10_ms": 50.0, "last_10_ms": 60.0, "growth": 1.2},
    }
    print_report(report)
    printed = capsys.readouterr().out
    assert "| median | | | 2.0x, 0.65x, 0.5x | 8.3% |" in printed
