"""Where a comment post's web CPU goes, in process: the app's own test client posts to a demo
article on a fresh SQLite file or a throwaway PostgreSQL server (tests/pg.py), and the CPU per
post is measured over many posts (no HTTP server: gunicorn's share is what bench/load.py adds
on top). With --profile, a cProfile run of the same posts, summed by package, and the
functions that cost most.

The rate limit is set high enough never to refuse; each post comes from its own address, as
readers' posts do, so the limit's rows and the replay check see real variety.

python -m bench.post_profile [--database sqlite|postgresql] [--posts 1000] [--profile 30]"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 200


def _app(folder: Path, url: str | None):
    (folder / "config.py").write_text("SECRET_KEY = 'bench-profile'\n")
    env = {"MODERATION_INSTANCE_PATH": str(folder), "MODERATION_SCORER": "embedded",
           "MODERATION_ADMIN_PASSWORD": "bench admin password 1",
           "MODERATION_MODERATOR_PASSWORD": "bench moderator password 1",
           "MODERATION_POST_LIMIT": "1000000 per minute;1000000 per day"}
    os.environ.update(env)
    os.environ.pop("DATABASE_URL", None)
    if url:
        os.environ["DATABASE_URL"] = url
    for step in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *step], cwd=ROOT,
                       check=True, capture_output=True)
    from moderation import create_app

    return create_app()


def _poster(app):
    """A function that posts comment number n, as a browser would after loading the page."""
    from moderation.services.demo import ARTICLES

    slug = ARTICLES[0]["slug"]
    client = app.test_client()
    page = client.get(f"/articles/{slug}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    def post(n: int) -> None:
        answer = client.post(
            f"/articles/{slug}/comments",
            data={"author_name": f"Reader {n % 97}", "author_email": "", "website": "",
                  "csrf_token": token,
                  "body": f"Comment number {n} on the story, with a few words of its own."},
            environ_base={"REMOTE_ADDR": f"10.{n // 62500 % 250}.{n // 250 % 250}.{n % 250}"})
        assert answer.status_code == 303, (answer.status_code, answer.get_data(as_text=True))
    return post


def _by_package(stats: pstats.Stats, posts: int) -> list[tuple[str, float]]:
    totals: collections.Counter = collections.Counter()
    for (filename, _line, _name), (_cc, _nc, own, _cum, _callers) in stats.stats.items():
        found = re.search(r"site-packages/([^/]+)", filename)
        if found:
            where = found.group(1)
        elif f"{ROOT}/moderation" in filename:
            where = "moderation (ours)"
        elif filename.startswith("~"):
            where = "built-in (C)"
        else:
            where = "standard library"
        totals[where] += own
    return [(where, seconds * 1000 / posts) for where, seconds in totals.most_common(15)]


def run(kind: str, posts: int, profile: int = 0) -> dict:
    from bench.load import Unavailable, _database

    with tempfile.TemporaryDirectory() as folder:
        try:
            with _database(kind, Path(folder)) as (url, _count_url, _pid, _name):
                return _measure(kind, _app(Path(folder), url), posts, profile)
        except Unavailable as missing:
            raise SystemExit(f"{kind} cannot be measured here: {missing}") from missing


def _measure(kind: str, app, posts: int, profile: int) -> dict:
    post = _poster(app)
    for n in range(WARM_UP):
        post(n)
    started = time.process_time()
    for n in range(WARM_UP, WARM_UP + posts):
        post(n)
    result = {"database": kind, "posts": posts,
              "cpu_ms_per_post": round((time.process_time() - started) * 1000 / posts, 2)}
    print(f"{kind}: {result['cpu_ms_per_post']} ms of CPU per post (in process, "
          f"no HTTP server), over {posts} posts", flush=True)
    if profile:
        _profile(post, posts, profile)
    return result


def _profile(post, posts: int, lines: int) -> None:
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for n in range(10**6, 10**6 + posts):
        post(n)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print("\nOwn time by package (profiled: cProfile slows pure Python most), ms per post:")
    for where, ms in _by_package(stats, posts):
        print(f"  {ms:7.3f}  {where}")
    print()
    stats.sort_stats("cumulative").print_stats(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile the posts and list the N costliest functions")
    parser.add_argument("--json", action="store_true", help="end with the result as JSON")
    arguments = parser.parse_args()
    result = run(arguments.database, arguments.posts, arguments.profile)
    if arguments.json:
        print(json.dumps(result))


def measure(databases=("sqlite", "postgresql"), posts: int = 1000) -> dict:
    """For `make bench`: each database in its own process (this one sets the environment
    an app reads)."""
    found = {}
    for kind in databases:
        answer = subprocess.run([sys.executable, "-m", "bench.post_profile", "--database", kind,
                                 "--posts", str(posts), "--json"], cwd=ROOT,
                                capture_output=True, text=True)
        lines = answer.stdout.strip().splitlines()
        found[kind] = (json.loads(lines[-1]) if answer.returncode == 0 and lines
                       else f"failed: {answer.stderr.strip()[-300:]}")
    return found


if __name__ == "__main__":
    main()
