"""Run a scoring worker in its own process, for tests that kill it mid-batch.

python -m tests.worker_process DATABASE_URL SLOW_SECONDS LEASE_SECONDS"""

import sys
import threading

from moderation import create_app
from moderation.worker import Worker
from tests.conftest import base_config
from tests.fakes import FakeScorer

if __name__ == "__main__":
    url, slow, lease = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    app = create_app(base_config(url, MODERATION_SCORER_OBJECT=FakeScorer(slow_seconds=slow),
                                 MODERATION_LEASE_SECONDS=lease,
                                 MODERATION_SCORE_TIMEOUT_SECONDS=600))
    print("worker starting", flush=True)
    Worker(app).run(threading.Event())
