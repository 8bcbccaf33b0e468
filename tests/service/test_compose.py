"""docker-compose.yml: the api (migrating at start), PostgreSQL, Redis and Prometheus, with health checks."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_health_checks():
    services = COMPOSE["services"]
    assert set(services) == {"api", "postgres", "redis", "prometheus", "retrain"}
    for name in ("api", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"], name
    assert services["api"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    env = services["api"]["environment"]
    assert env["AUTOREPLY_DATABASE_URL"].startswith("postgresql+psycopg://") and env[
        "AUTOREPLY_REDIS_URL"
    ].startswith("redis://")


def test_prometheus_scrapes_the_api():
    config = yaml.safe_load((ROOT / "deploy/prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics" and job["static_configs"][0]["targets"] == ["api:8000"]


def test_the_image_serves_without_training_and_migrates_at_start():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "torch" not in dockerfile.replace("No torch", "").split("RUN", 1)[1]
    assert "COPY training" not in dockerfile and "RUN pip install .\n" in dockerfile
    assert '"autoreply", "serve"' in dockerfile


def test_compose_config_passes():
    # docker compose v2 (plugin) or docker-compose v1 (Debian's package); the file is valid for both.
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            continue
        done = subprocess.run(
            [*command, "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "AUTOREPLY_API_KEYS": "{}"},
        )
        if "unknown command" in done.stderr or "unknown shorthand flag" in done.stderr:
            continue  # the docker client without its compose plugin
        assert done.returncode == 0, done.stderr
        return
    assert (
        COMPOSE["services"]["api"]["build"] == "."
    )  # no compose binary here: the structure checks above stand


def test_the_retrain_job_runs_on_a_profile_against_postgres_and_the_bundles_volume():
    job = COMPOSE["services"]["retrain"]
    assert job["profiles"] == ["retrain"] and "retrain" in job["command"]
    assert job["environment"]["AUTOREPLY_DATABASE_URL"].endswith("@postgres:5432/autoreply")
    assert job["volumes"] == ["./var/bundles:/bundles"] and "/bundles" in job["command"]
    assert COMPOSE["services"]["api"]["environment"]["AUTOREPLY_BUNDLE_DIR"] == "/bundles/current"
