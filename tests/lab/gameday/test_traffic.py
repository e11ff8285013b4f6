"""The traffic generator's pure parts: vegeta's result lines read as samples (timestamps with
nanoseconds, failures of every kind), and the load's command bounded in time and rate."""

from __future__ import annotations

import json

import pytest

from lab.gameday.traffic import attack_script, epoch, parse_result


def line(code: int = 200, error: str = "", latency_ns: int = 12_000_000, stamp: str = "2026-12-02T06:35:50.756271433Z") -> str:
    return json.dumps({"attack": "", "seq": 0, "code": code, "timestamp": stamp, "latency": latency_ns,
                       "bytes_out": 0, "bytes_in": 3, "error": error, "body": "b2sK"})


def test_timestamps_keep_their_nanoseconds_and_their_zone() -> None:
    assert epoch("1970-01-01T00:00:10.5Z") == pytest.approx(10.5)
    assert epoch("1970-01-01T00:00:10.000000001Z") == pytest.approx(10.000000001, abs=1e-9)
    assert epoch("1970-01-01T01:00:10+01:00") == pytest.approx(10.0)
    with pytest.raises(ValueError):
        epoch("yesterday")


def test_a_result_becomes_a_sample_relative_to_the_start() -> None:
    started = epoch("2026-12-02T06:35:50Z")
    sample = parse_result(line(), started)
    assert sample is not None and sample.ok
    assert sample.at == pytest.approx(0.756, abs=1e-3) and sample.latency == pytest.approx(0.012)


@pytest.mark.parametrize("code, error", [(500, ""), (503, "503 Service Unavailable"), (0, "connect: connection refused"),
                                         (0, "Get \"http://10.96.0.5/\": context deadline exceeded")])
def test_a_server_error_or_a_failed_connection_is_a_failed_request(code: int, error: str) -> None:
    sample = parse_result(line(code, error, latency_ns=2_000_000_000), 0.0)
    assert sample is not None and not sample.ok and sample.latency == pytest.approx(2.0)


@pytest.mark.parametrize("text", ["", "{", '{"code": 200}', "not json at all", line()[:-10]])
def test_a_line_that_is_no_whole_result_is_no_sample(text: str) -> None:
    assert parse_result(text, 0.0) is None


def test_the_load_is_bounded_in_time_and_uses_fresh_connections() -> None:
    script = attack_script("http://10.96.0.7:80/", 300, rate=10, timeout=2)
    assert "GET http://10.96.0.7:80/" in script
    assert "-duration=300s" in script and "-rate=10/1s" in script and "-timeout=2s" in script
    assert "-keepalive=false" in script and "encode --to json" in script


def test_with_a_resolver_every_request_looks_the_name_up_there() -> None:
    script = attack_script("http://web.gameday.svc.cluster.local:80/", 60, resolver="10.96.0.10")
    assert "-resolvers=10.96.0.10:53 -dns-ttl=-1 " in script
    assert "-resolvers" not in attack_script("http://10.96.0.7:80/", 60)


def test_the_unit_ends_by_itself_after_the_load() -> None:
    from lab.gameday.traffic import GRACE, unit_file

    text = unit_file("http://10.96.0.7:80/", 120)
    assert f"RuntimeMaxSec={120 + GRACE}" in text
    assert 'ExecStart=/bin/sh -c "echo \'GET http://10.96.0.7:80/\' |' in text and "-duration=120s" in text
    assert "%" not in text and "$" not in text  # nothing systemd would expand
