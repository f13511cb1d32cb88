"""What `python -m deploy.scaled` writes (Procfile, nginx.conf, Rasa's endpoints.yml), without starting anything."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.nginx import nginx_binary, nginx_command
from deploy.scaled import ScaledConfig, ScaledError, build, main

SECRETS = {
    "RASA_TOKEN": "rasa-secret-0123456789abcdef",
    "ACTIONS_TOKEN": "actions-secret-0123456789abcdef",
    "DATABASE_URL": "postgresql://frontline:db-secret-pw@db.internal:5432/shop1",
    "REDIS_URL": "redis://:redis-secret-pw@cache.internal:6380/3",
    "REDIS_PREFIX": "shop-1",
}


def plan(tmp_path: Path, hubs: int = 3, rasa: int = 2, **env: str):
    return build(ScaledConfig(hubs=hubs, rasa=rasa, root=tmp_path, rasa_workers=2), {**SECRETS, **env})


def test_the_procfile_runs_every_piece_on_its_own_port_and_the_hubs_find_all_rasa_servers(tmp_path):
    scaled = plan(tmp_path)
    lines = dict(line.split(": ", 1) for line in scaled.procfile.read_text().splitlines() if not line.startswith("#"))
    assert list(lines) == ["actions", "rasa1", "rasa2", "hub1", "hub2", "hub3", "nginx"]
    assert [p.port for p in scaled.named("hub")] == [8081, 8082, 8083]
    assert "env HUB_PORT=8082 " in lines["hub2"] and lines["hub2"].endswith("-m bot")
    assert lines["rasa2"].startswith("env SANIC_WORKERS=2 ") and "--port 5015" in lines["rasa2"]
    assert '--jwt-secret "$RASA_TOKEN"' in lines["rasa1"]
    assert scaled.env["RASA_URL"] == "http://127.0.0.1:5005,http://127.0.0.1:5015"
    assert scaled.env["PUBLIC_URL"] == scaled.public_url == "http://127.0.0.1:8080"
    assert scaled.env["SANIC_PROXIES_COUNT"] == "1"
    assert scaled.env["SHOP_DATABASE_URL"].endswith("/shop1_shop")
    assert scaled.env["ACTIONS_DATABASE_URL"] == SECRETS["DATABASE_URL"]


def test_rasa_shares_the_redis_lock_store_and_the_sql_tracker_store(tmp_path):
    endpoints = yaml.safe_load((plan(tmp_path).root / "endpoints.yml").read_text())
    assert endpoints["lock_store"] == {
        "type": "redis",
        "url": "cache.internal",
        "port": 6380,
        "db": 3,
        "key_prefix": "shop1",
        "password": "${FRONTLINE_REDIS_PASSWORD}",
    }
    assert endpoints["tracker_store"]["type"] == "bot.rasa.tracker_store.DatabaseUrlTrackerStore"
    assert endpoints["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"


def test_no_secret_is_written_to_a_file(tmp_path):
    scaled = plan(tmp_path)
    written = "".join(path.read_text() for path in tmp_path.rglob("*") if path.is_file())
    for secret in ("rasa-secret", "actions-secret", "db-secret-pw", "redis-secret-pw"):
        assert secret not in written
    assert scaled.env["FRONTLINE_REDIS_PASSWORD"] == "redis-secret-pw"


def test_nginx_balances_every_hub_without_stickiness_and_passes_websockets_on(tmp_path):
    config = (plan(tmp_path).root / "nginx" / "nginx.conf").read_text()
    assert [f"server 127.0.0.1:{port} " in config for port in (8081, 8082, 8083)] == [True] * 3
    assert "listen 127.0.0.1:8080;" in config
    assert "proxy_set_header Upgrade $http_upgrade;" in config and "proxy_read_timeout 3600s;" in config
    assert "proxy_next_upstream error timeout;" in config
    assert "ip_hash" not in config and "hash " not in config and "sticky" not in config
    assert str(tmp_path) in config.split("pid ", 1)[1].split(";")[0]


@pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed (make run-scaled installs it)")
def test_nginx_accepts_the_configuration(tmp_path):
    command = nginx_command(str(nginx_binary()), plan(tmp_path).root / "nginx")
    result = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"DATABASE_URL": "sqlite:///var/frontline.db"}, "PostgreSQL"),
        ({"REDIS_URL": "unix:///run/redis.sock"}, "REDIS_URL"),
    ],
)
def test_what_the_scaled_mode_cannot_run_on_is_refused_with_the_reason(tmp_path, env, problem):
    with pytest.raises(ScaledError, match=problem):
        plan(tmp_path, **env)


def test_listening_on_every_address_needs_the_public_url(tmp_path):
    with pytest.raises(ScaledError, match="PUBLIC_URL"):
        build(ScaledConfig(root=tmp_path, lb_host="0.0.0.0"), SECRETS)


def test_the_command_line_writes_the_files_and_says_where(tmp_path, capsys, monkeypatch):
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    assert main(["--hubs", "2", "--rasa", "1", "--root", str(tmp_path), "--write-only"]) == 0
    assert str(tmp_path / "Procfile") in capsys.readouterr().out
    assert "hub2:" in (tmp_path / "Procfile").read_text()
