"""The real entry points, as `make run` uses them: wsgi.py, an instance folder with its own
config.py, settings from the environment, `db upgrade`, `seed-demo`, then `serve` with its worker
thread scoring the demo comments with the real embedded model."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def instance(tmp_path) -> dict:
    folder = tmp_path / "instance"
    folder.mkdir()
    (folder / "config.py").write_text("SECRET_KEY = 'from-the-instance-folder'\n")
    env = dict(os.environ, MODERATION_INSTANCE_PATH=str(folder), MODERATION_SCORER="embedded",
               MODERATION_ADMIN_PASSWORD="admin password 123",
               MODERATION_MODERATOR_PASSWORD="moderator password 123",
               MODERATION_WORKER_POLL_SECONDS="0.2")
    env.pop("DATABASE_URL", None)
    return {"folder": folder, "env": env}


def run(args, env):
    return subprocess.run(FLASK + args, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=180)


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def test_migrate_seed_and_serve_score_the_demo_comments(instance):
    env = instance["env"]
    upgrade = run(["db", "upgrade"], env)
    assert upgrade.returncode == 0, upgrade.stderr
    assert Path(instance["folder"], "moderation.sqlite3").is_file()
    seeded = run(["seed-demo"], env)
    assert seeded.returncode == 0, seeded.stderr
    assert "3 new articles, 13 new comments" in seeded.stdout
    assert "password:" not in seeded.stdout  # both came from the environment

    port = free_port()
    server = subprocess.Popen(FLASK + ["serve", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        health = None
        while time.monotonic() < deadline:
            try:
                health = get_json(f"http://127.0.0.1:{port}/healthz")
                # The heartbeat (and its total) follows the batch it counts when the worker
                # falls idle: wait for both.
                if health["comments"].get("awaiting_score") == 0 and health["workers"] \
                        and health["workers"][0]["scored_total"] == 13:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert health is not None, "the server never answered"
        assert health["database"]["ok"] is True
        assert health["scorer"]["name"] == "alt-profanity-check"
        assert health["comments"]["awaiting_score"] == 0
        assert health["workers"][0]["scorer_loaded"] is True
        assert health["workers"][0]["scored_total"] == 13
        assert health["comments"]["awaiting_moderator"] >= 1  # the abusive demo comments
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            page = response.read().decode()
            server_header = response.headers.get("Server", "")
        # No banner naming the server software and Python version to an attacker.
        assert "Werkzeug" not in server_header and "Python" not in server_header
        assert "River Valley council approves a flood barrier" in page
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C stops the server and the worker
        try:
            server.wait(20)
        finally:
            if server.poll() is None:
                server.kill()
    assert server.returncode is not None


def test_a_missing_secret_key_is_a_clear_error(tmp_path):
    env = dict(os.environ, MODERATION_INSTANCE_PATH=str(tmp_path))
    env.pop("SECRET_KEY", None)
    result = run(["seed-demo"], env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
