"""`make run`'s server: gunicorn and a scoring worker process under `flask supervise`. A
killed worker is started again and scores what readers post next; Ctrl-C stops everything."""

import http.cookiejar
import os
import re
import signal
import subprocess
import threading
import time
import urllib.parse
import urllib.request

from moderation.services.demo import ARTICLES
from tests.conftest import ROOT
from tests.web import test_serve_process as serving
from tests.web.test_serve_process import FLASK, free_port, get_json, run

instance = serving.instance  # the same instance folder fixture


def supervise(env, port, *options) -> tuple[subprocess.Popen, list[str]]:
    """`flask supervise` on `port`, its output collected line by line as it comes."""
    server = subprocess.Popen(FLASK + ["supervise", "--port", str(port), *options],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(iter(server.stdout.readline, "")),
                     daemon=True).start()
    return server, output


def wait_for(condition, what, output, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"never saw {what}:\n" + "".join(output[-40:]))


def health(port):
    try:
        return get_json(f"http://127.0.0.1:{port}/healthz")
    except OSError:
        return None


def post_comment(port, body):
    """As a browser does: the article page first (its form's CSRF token and the cookie)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    url = f"http://127.0.0.1:{port}/articles/{ARTICLES[0]['slug']}"
    page = opener.open(url, timeout=10).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"author_name": "Jo", "body": body,
                                   "csrf_token": token}).encode()
    try:
        opener.open(urllib.request.Request(url + "/comments", data=data), timeout=10)
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers
    raise AssertionError("a post is answered with a redirect")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_supervise_serves_with_gunicorn_restarts_a_dead_worker_and_stops_on_ctrl_c(instance):
    env = instance["env"]
    assert run(["db", "upgrade"], env).returncode == 0
    seeded = run(["seed-demo"], env)
    assert seeded.returncode == 0, seeded.stderr
    port = free_port()
    server, output = supervise(env, port, "--web-processes", "2", "--threads", "2")

    def pids(name):
        return [int(pid) for pid in re.findall(rf"started {name} \(pid (\d+)\)",
                                               "".join(output))]

    try:
        wait_for(lambda: (h := health(port)) and h["workers"]
                 and h["comments"]["awaiting_score"] == 0, "the demo scored", output)
        answer = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10)
        assert answer.headers["Server"] == "gunicorn"  # no version, no Python
        status, _ = post_comment(port, "The barrier vote was the right call.")
        assert status == 303
        [first_worker] = pids("worker")
        os.kill(first_worker, signal.SIGKILL)
        wait_for(lambda: len(pids("worker")) == 2, "the worker started again", output)
        assert any("worker exited with code -9" in line for line in output)
        status, _ = post_comment(port, "Posted after the worker was restarted.")
        assert status == 303
        wait_for(lambda: (h := health(port)) and h["comments"]["awaiting_score"] == 0,
                 "the new worker scoring", output)
        assert all(line.split("|", 1)[0].strip() in ("run", "web", "worker")
                   for line in output if "|" in line)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(60)
        finally:
            if server.poll() is None:
                server.kill()
    assert server.returncode == 0, "".join(output[-20:])
    web, second_worker = pids("web")[0], pids("worker")[-1]
    wait_for(lambda: not alive(web) and not alive(second_worker), "the children gone", output)
    assert any("stopping web, worker" in line for line in output)


PARENT = """
import subprocess, sys, time
child = subprocess.Popen(sys.argv[1:])
print(child.pid, flush=True)
time.sleep(600)
"""


def test_with_stop_with_parent_the_server_stops_when_its_parent_is_killed(instance):
    """make run: killing make must not leave gunicorn and the worker running as orphans."""
    import sys

    env = instance["env"]
    assert run(["db", "upgrade"], env).returncode == 0
    port = free_port()
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, *FLASK, "supervise", "--port", str(port),
         "--web-processes", "1", "--threads", "2", "--workers", "1", "--stop-with-parent"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    supervisor_pid = int(parent.stdout.readline())
    output: list[str] = []
    try:
        wait_for(lambda: health(port) is not None, "the server answering", output)
        children = [int(pid) for pid in subprocess.run(
            ["pgrep", "-P", str(supervisor_pid)], capture_output=True, text=True
        ).stdout.split()]
        assert len(children) == 2  # gunicorn and the worker
    finally:
        parent.kill()
        parent.wait(10)
    wait_for(lambda: not alive(supervisor_pid) or _zombie(supervisor_pid),
             "the supervisor gone", output, timeout=60)
    wait_for(lambda: not any(alive(pid) and not _zombie(pid) for pid in children),
             "its children gone", output, timeout=60)


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_a_hang_up_stops_the_server_and_its_children(instance):
    """A closed terminal (SIGHUP) must not leave gunicorn holding the port."""
    env = instance["env"]
    assert run(["db", "upgrade"], env).returncode == 0
    port = free_port()
    server, output = supervise(env, port, "--web-processes", "1", "--threads", "2")
    try:
        wait_for(lambda: health(port) is not None, "the server answering", output)
        children = [int(pid) for pid in re.findall(r"\(pid (\d+)\)", "".join(output))]
        assert len(children) == 2
        server.send_signal(signal.SIGHUP)
        server.wait(60)
    finally:
        if server.poll() is None:
            server.kill()
    wait_for(lambda: not any(alive(pid) and not _zombie(pid) for pid in children),
             "the children gone", output, timeout=60)
    assert health(port) is None
