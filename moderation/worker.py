"""The scoring loop: claim a batch -> score -> band with the active policy -> commit.

Any number of workers may run against one database: claims are leased, so a worker that dies
mid-batch only delays its comments until the lease expires; it never loses or double-decides.
A live worker renews its lease every third of it while the scorer works (LeaseKeeper), so the
lease can be short (30 s): a crashed worker's comments are picked up about that soon."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import socket
import sys
import threading
import time
import uuid

from flask import Flask

from moderation.extensions import db
from moderation.models import WorkerHeartbeat, utcnow
from moderation.scoring import ScoredText, Scorer
from moderation.scoring.recent import RecentScores
from moderation.services import examples, pipeline, queue_counts, site_models
from moderation.services.scorer import scorer_choice
from moderation.webhook_sender import WebhookSender

log = logging.getLogger(__name__)
FOLD_EVERY_SECONDS = 1.0
HEARTBEAT_EVERY_SECONDS = 2.0


class ScoringTimeout(Exception):
    pass


def settle_process(app: Flask) -> str:
    """A worker process's manners on shared cores, set before its model loads: at most
    MODERATION_WORKER_THREADS threads for the model (0: one per core), and a priority lowered
    by MODERATION_WORKER_NICE, so readers' requests are served before a batch is scored.
    Returns a line for the log."""
    threads = int(app.config["MODERATION_WORKER_THREADS"])
    if threads > 0:
        # ONNX Runtime sessions (composite, Detoxify on onnx) and torch both read it at load.
        os.environ["OMP_NUM_THREADS"] = str(threads)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)
        # numpy's BLAS started its own pool at import (one thread per core, spinning after
        # each product: the heads' and examples' small products cost a core's worth of CPU).
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=threads)
        except ImportError:  # scikit-learn brings it; without it the BLAS keeps its pool
            pass
    nice = int(app.config["MODERATION_WORKER_NICE"])
    niceness = None
    if nice > 0 and hasattr(os, "nice"):
        try:
            niceness = os.nice(nice)
        except OSError:  # not allowed here: run at the normal priority
            niceness = None
    return (f"model threads: {threads if threads > 0 else 'one per core'}; "
            f"priority: {'nice ' + str(niceness) if niceness is not None else 'unchanged'}")


class LeaseKeeper:
    """Renews a batch's lease from its own thread (and its own database session) while the
    scorer works, every third of the lease, until stopped."""

    def __init__(self, app: Flask, token: str, lease_seconds: float):
        self.app, self.token, self.lease_seconds = app, token, lease_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.lease_seconds / 3):
            with self.app.app_context():
                try:
                    pipeline.renew(self.token, self.lease_seconds)
                    db.session.commit()
                except Exception:  # the next beat tries again; the lease is the safety net
                    db.session.rollback()
                    log.exception("could not renew the lease on a batch")
                finally:
                    db.session.remove()


class Worker:
    def __init__(self, app: Flask, scorer: Scorer | None = None, *, reason: str | None = None):
        self.app = app
        choice = scorer_choice(app)
        self.scorer = scorer or choice.scorer
        self.reason = reason or choice.reason
        config = app.config
        self.batch_size = max(1, min(int(config["MODERATION_WORKER_BATCH"]), pipeline.MAX_BATCH))
        self.lease_seconds = float(config["MODERATION_LEASE_SECONDS"])
        self.poll_seconds = float(config["MODERATION_WORKER_POLL_SECONDS"])
        self.timeout = float(config["MODERATION_SCORE_TIMEOUT_SECONDS"])
        self.retry_base = float(config["MODERATION_RETRY_BASE_SECONDS"])
        self.retry_max = float(config["MODERATION_RETRY_MAX_SECONDS"])
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.scored_total = 0
        self.last_error: str | None = None
        self.load_timeout = float(config["MODERATION_LOAD_TIMEOUT_SECONDS"])
        self.retrain_every = int(config["MODERATION_SITE_MODEL_RETRAIN_EVERY"])
        self.retrain_check_seconds = float(config["MODERATION_SITE_MODEL_CHECK_SECONDS"])
        self._next_retrain_check = 0.0
        self._next_fold = 0.0
        self.webhooks = WebhookSender(app)
        self.webhooks_every = float(config["MODERATION_WEBHOOKS_EVERY_SECONDS"])
        self._next_webhooks = 0.0
        self.gather_seconds = float(config["MODERATION_WORKER_GATHER_SECONDS"])
        self._next_beat = 0.0
        self._shown: tuple | None = None
        self._shown_total = 0
        self._warning: str | None = None  # this batch went through, but something was skipped
        self.recent = RecentScores(int(config["MODERATION_WORKER_RECENT_TEXTS"]))
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="scorer")
        # A scorer call that timed out still runs (and holds the model's lock): no new batch
        # is claimed until it returns, so comments wait unclaimed for other workers instead
        # of piling up behind it.
        self._stuck: concurrent.futures.Future | None = None

    # -- one batch ---------------------------------------------------------------------
    def run_once(self) -> int:
        """Process one batch; returns how many comments it claimed."""
        if self._still_stuck():
            return 0
        with self.app.app_context():
            try:
                self._warning = None
                self._sync_examples()
                token, claimed = pipeline.claim_batch(self.batch_size, self.lease_seconds)
                db.session.commit()
                if not claimed:
                    return 0
                with LeaseKeeper(self.app, token, self.lease_seconds):  # until committed
                    results, failures = self._score_batch(claimed)
                    if results:
                        results, site_model_id = self._finish(results)
                        outcome = pipeline.apply_scores(token, results, self.scorer.identity,
                                                        site_model_id=site_model_id)
                        self.scored_total += outcome.banded
                    for message, ids in failures.items():
                        pipeline.record_failure(token, ids, message,
                                                base_seconds=self.retry_base,
                                                max_seconds=self.retry_max)
                    db.session.commit()
                self.last_error = next(iter(failures), None) or self._warning
                return len(claimed)
            finally:
                db.session.remove()

    def _sync_examples(self) -> None:
        """Admins' example sentences, when they changed (and embeddings of proposals). A
        failure here must not stop scoring: the scorer keeps the examples it has."""
        try:
            examples.sync(self.scorer)
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            self._warning = self.last_error = f"example sentences not updated: {_describe(error)}"
            log.exception("could not hand the scorer the current example sentences")

    def _finish(self, results: dict[int, ScoredText]):
        """The base scores plus the active site model's label. If the site model fails, the
        base scores are stored as they are (and the error reported) rather than lost."""
        try:
            return site_models.finish_by_id(results, self.scorer.identity)
        except Exception as error:
            self._warning = f"site model not applied: {_describe(error)}"
            log.exception("the site model could not score a batch")
            return results, None

    def _score_batch(self, claimed: list[pipeline.Claimed]):
        """Scores by comment id, and failures as {error message: [ids]}.

        When a batch fails, its comments are retried one by one so that a single text the
        model chokes on does not hold back the rest (a timeout is not retried: that would
        multiply the wait)."""
        try:
            return self._score(claimed), {}
        except ScoringTimeout as error:
            return {}, {_describe(error): [item.id for item in claimed]}
        except Exception as error:  # any scorer failure leaves comments unscored
            if len(claimed) == 1:
                log.warning("scoring comment %d failed: %s", claimed[0].id, _describe(error))
                return {}, {_describe(error): [claimed[0].id]}
            log.warning("scoring %d comments failed (%s); retrying one by one",
                        len(claimed), _describe(error))
        results: dict[int, ScoredText] = {}
        failures: dict[str, list[int]] = {}
        for position, item in enumerate(claimed):
            if self._stuck is not None and not self._stuck.done():  # an earlier one timed out
                failures["not scored: the scorer was stuck on an earlier comment"] = [
                    other.id for other in claimed[position:]]
                break
            try:
                results.update(self._score([item]))
            except Exception as error:
                failures.setdefault(_describe(error), []).append(item.id)
        return results, failures

    def _still_stuck(self) -> bool:
        if self._stuck is None:
            return False
        if self._stuck.done():
            self._stuck = None
            return False
        self.last_error = "the scorer is still busy with a call that timed out; waiting for it"
        return True

    def _call(self, function, *args, timeout: float, what: str):
        """Run a scorer call with a time limit. A call past it cannot be interrupted: it is
        left to finish in its own thread, and remembered so no new work queues behind it."""
        future = self._executor.submit(function, *args)
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            self._stuck = future
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="scorer")
            raise ScoringTimeout(f"{what} took longer than {timeout:g} s") from None

    def _score(self, claimed: list[pipeline.Claimed]) -> dict[int, ScoredText]:
        texts = [item.body for item in claimed]
        scored = self._call(self.recent.score, self.scorer, texts, timeout=self.timeout,
                            what="the scorer")
        if len(scored) != len(claimed):
            raise RuntimeError(f"scorer returned {len(scored)} results for {len(claimed)} texts")
        return {item.id: result for item, result in zip(claimed, scored, strict=True)}

    # -- the loop ----------------------------------------------------------------------
    def load(self) -> None:
        try:
            self._call(self.scorer.load, timeout=self.load_timeout, what="loading the model")
            log.info("scorer %s loaded", self.scorer.identity.label)
        except Exception as error:  # keep running: batches will fail and be retried
            self.last_error = _describe(error)
            log.error("scorer %s could not load: %s", self.scorer.identity.name, self.last_error)

    def run(self, stop: threading.Event, *, max_batches: int | None = None) -> None:
        log.info("worker %s scoring with %s: %s", self.id, self.scorer.identity.name, self.reason)
        self.load()
        batches = 0
        while not stop.is_set():
            try:
                claimed = self.run_once()
            except Exception:  # the database went away, say; back off and try again
                log.exception("worker batch failed")
                claimed = 0
                stop.wait(self.poll_seconds * 5)
            self.heartbeat(idle=not claimed)
            self.fold_counts_if_due()
            self.deliver_webhooks_if_due()
            self.retrain_if_due()
            batches += 1
            if max_batches is not None and batches >= max_batches:
                break
            if not claimed:
                stop.wait(self.poll_seconds)
            elif claimed < self.batch_size and self.gather_seconds:
                # A part batch: let a few more posts arrive, so that a steady stream is scored
                # in batches rather than one by one (a batch's fixed cost is most of a small
                # one's), at the price of that much more "being checked".
                stop.wait(self.gather_seconds)
        self._executor.shutdown(wait=False, cancel_futures=True)

    def retrain_if_due(self) -> None:
        """Retrain the site model after enough new decisions (MODERATION_SITE_MODEL_RETRAIN_EVERY),
        between batches, never inside a request. Checked at most every few minutes."""
        if self.retrain_every <= 0 or time.monotonic() < self._next_retrain_check:
            return
        self._next_retrain_check = time.monotonic() + self.retrain_check_seconds
        with self.app.app_context():
            try:
                model = site_models.maybe_retrain(self.scorer.identity.name, self.retrain_every)
                db.session.commit()
                if model is not None:
                    log.info("trained %s: held-out ROC-AUC %.3f (base %.3f)%s", model.label,
                             model.evidence["site_auc"], model.evidence["base_auc"],
                             ", activated" if model.active else ", not activated")
            except Exception:  # e.g. two workers training at once: one wins, try later
                db.session.rollback()
                log.exception("retraining the site model failed")
            finally:
                db.session.remove()

    def deliver_webhooks_if_due(self) -> None:
        """Fan new events out to webhook endpoints and send what is due, between batches
        (services/webhook_delivery), at most every MODERATION_WEBHOOKS_EVERY_SECONDS. A step
        starts no send after MODERATION_WEBHOOKS_STEP_SECONDS and each send ends within the
        timeout, so the next batch waits at most about their sum (webhook_sender)."""
        if time.monotonic() < self._next_webhooks:
            return
        self._next_webhooks = time.monotonic() + self.webhooks_every
        try:
            self.webhooks.run_once()
        except Exception:  # the database went away, say: the next step tries again
            log.exception("webhook delivery step failed")

    def fold_counts_if_due(self) -> None:
        """Fold the queue's band-count changes into their totals, about once a second, so
        reading the counts stays a few rows (services/queue_counts)."""
        if time.monotonic() < self._next_fold:
            return
        self._next_fold = time.monotonic() + FOLD_EVERY_SECONDS
        with self.app.app_context():
            try:
                queue_counts.fold()
                db.session.commit()
            except Exception:  # the changes stay and the next fold takes them
                db.session.rollback()
                log.exception("could not fold the queue counts")
            finally:
                db.session.remove()

    def heartbeat(self, *, idle: bool = False) -> None:
        """What /healthz shows of this worker. Written when something a person would read
        changed (an error, the model loaded), when the worker falls idle with a new total,
        and otherwise at most every HEARTBEAT_EVERY_SECONDS: under a steady stream of posts a
        write per batch was a fifth of the worker's time."""
        shown = (self.last_error, bool(self.scorer.ready), self.scorer.identity)
        due = (shown != self._shown or time.monotonic() >= self._next_beat
               or (idle and self.scored_total != self._shown_total))
        if not due:
            return
        self._shown, self._shown_total = shown, self.scored_total
        self._next_beat = time.monotonic() + HEARTBEAT_EVERY_SECONDS
        with self.app.app_context():
            try:
                beat = db.session.get(WorkerHeartbeat, self.id)
                if beat is None:
                    beat = WorkerHeartbeat(id=self.id, hostname=socket.gethostname(),
                                           pid=os.getpid(), started_at=utcnow())
                    db.session.add(beat)
                identity = self.scorer.identity
                beat.scorer_name = identity.name
                beat.scorer_version = identity.version
                beat.scorer_loaded = bool(self.scorer.ready)
                beat.scorer_reason = self.reason
                beat.last_error = self.last_error
                beat.scored_total = self.scored_total
                beat.seen_at = utcnow()
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("could not record the worker heartbeat")
            finally:
                db.session.remove()


def _describe(error: BaseException) -> str:
    text = str(error) or error.__class__.__name__
    return f"{error.__class__.__name__}: {text}" if str(error) else text


def start_thread(app: Flask) -> tuple[threading.Thread, threading.Event]:
    """A worker in a background thread of the serving process (what `make run` uses)."""
    stop = threading.Event()
    worker = Worker(app)
    thread = threading.Thread(target=worker.run, args=(stop,), name="scoring-worker", daemon=True)
    thread.start()
    return thread, stop
