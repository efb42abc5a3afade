"""The app with real Detoxify loading code end to end: model files dropped into the instance
folder are found by `auto`, loaded offline through Detoxify's constructor by the worker, and
every score it stores names the model and the checkpoint's hash (and the ONNX int8 runtime,
when MODERATION_DETOXIFY_RUNTIME=onnx).

The checkpoint is tiny with random weights: these tests prove wiring, never scoring quality."""

import hashlib
import shutil
from pathlib import Path

import pytest

from moderation import create_app
from moderation.extensions import db
from moderation.models import Comment, CommentState
from moderation.worker import Worker
from tests.conftest import base_config
from tests.factories import make_article, make_comment
from tests.tiny_detoxify import build_tiny_checkpoint

LONG_TEXT = " ".join(["the council meeting is on tuesday and people should read the story"] * 12)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-model"))


def _model_in_instance_folder(tmp_path, tiny_model, monkeypatch) -> Path:
    checkpoint, hf_dir = tiny_model
    folder = tmp_path / "instance" / "detoxify"
    folder.mkdir(parents=True)
    shutil.copy(checkpoint, folder / "original.ckpt")
    shutil.copytree(hf_dir, folder / "original")
    monkeypatch.setenv("MODERATION_INSTANCE_PATH", str(tmp_path / "instance"))
    return folder


@pytest.fixture
def detoxify_app(tmp_path, database_url, tiny_model, monkeypatch):
    _model_in_instance_folder(tmp_path, tiny_model, monkeypatch)
    app = create_app(base_config(database_url, MODERATION_SCORER_OBJECT=None,
                                 MODERATION_SCORER="auto", MODERATION_SCORE_TIMEOUT_SECONDS=60))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_auto_finds_the_instance_model_and_the_worker_scores_with_it(detoxify_app, tiny_model):
    client = detoxify_app.test_client()
    health = client.get("/healthz").get_json()
    assert health["scorer"]["name"] == "detoxify-original"
    with detoxify_app.app_context():
        from moderation.services.health import report

        assert "original.ckpt" in report(detoxify_app, detailed=True)[0]["scorer"]["reason"]
    assert health["scorer"]["loaded"] is False  # nothing loads until the worker needs it

    with detoxify_app.app_context():
        article = make_article()
        short_id = make_comment(article, "thanks for the story").id
        long_id = make_comment(article, LONG_TEXT).id
        db.session.commit()
    assert Worker(detoxify_app).run_once() == 2

    digest = hashlib.sha256(tiny_model[0].read_bytes()).hexdigest()[:12]
    with detoxify_app.app_context():
        short = db.session.get(Comment, short_id)
        long = db.session.get(Comment, long_id)
        assert short.state is not CommentState.PENDING and short.scored_at is not None
        assert (short.scorer_name, short.scorer_version) == ("detoxify-original",
                                                             f"sha256:{digest}")
        labels = short.current_score.labels
        assert set(labels) == {"toxicity", "severe_toxicity", "obscene", "threat", "insult",
                               "identity_attack"}  # sexual_explicit: not in this model
        assert short.risk == pytest.approx(max(labels.values()))
        assert long.current_score.windows > 1
        start, end = long.current_score.top_window_start, long.current_score.top_window_end
        assert 0 <= start < end <= len(LONG_TEXT)
    assert client.get("/healthz").get_json()["scorer"]["loaded"] is True


def test_explicit_detoxify_without_weights_leaves_comments_unscored_not_lost(
        database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    app = create_app(base_config(database_url, MODERATION_SCORER_OBJECT=None,
                                 MODERATION_SCORER="detoxify",
                                 MODERATION_DETOXIFY_CHECKPOINT=str(tmp_path / "missing.ckpt")))
    with app.app_context():
        comment_id = make_comment(make_article(), "hello").id
        db.session.commit()
    Worker(app).run_once()
    with app.app_context():
        comment = db.session.get(Comment, comment_id)
        assert comment.state is CommentState.QUEUED and comment.scored_at is None
        assert "missing.ckpt" in comment.score_error
        db.session.remove()
        db.engine.dispose()


def test_with_the_onnx_runtime_the_worker_exports_once_and_every_score_says_onnx_int8(
        tmp_path, database_url, tiny_model, monkeypatch):
    folder = _model_in_instance_folder(tmp_path, tiny_model, monkeypatch)
    app = create_app(base_config(database_url, MODERATION_SCORER_OBJECT=None,
                                 MODERATION_SCORER="auto", MODERATION_DETOXIFY_RUNTIME="onnx",
                                 MODERATION_SCORE_TIMEOUT_SECONDS=60))
    health = app.test_client().get("/healthz").get_json()["scorer"]
    assert (health["name"], health["version"]) == ("detoxify-original", "unloaded+onnx-int8")

    with app.app_context():
        article = make_article()
        ids = [make_comment(article, text).id for text in ("thanks for the story", LONG_TEXT)]
        db.session.commit()
    assert Worker(app).run_once() == 2

    digest = hashlib.sha256(tiny_model[0].read_bytes()).hexdigest()[:12]
    assert (folder / "original.ckpt.int8.onnx").is_file()
    with app.app_context():
        for comment_id in ids:
            comment = db.session.get(Comment, comment_id)
            assert comment.scored_at is not None
            assert (comment.scorer_name, comment.scorer_version) == (
                "detoxify-original", f"sha256:{digest}+onnx-int8")
        assert db.session.get(Comment, ids[1]).current_score.windows > 1
        db.session.remove()
        db.engine.dispose()


def test_the_export_command_exports_ahead_and_then_reuses(tmp_path, tiny_model, monkeypatch):
    folder = _model_in_instance_folder(tmp_path, tiny_model, monkeypatch)
    app = create_app(base_config("sqlite://", MODERATION_SCORER_OBJECT=None))
    runner = app.test_cli_runner()

    first = runner.invoke(args=["model", "export-onnx"])

    assert first.exit_code == 0, first.output
    export = folder / "original.ckpt.int8.onnx"
    assert f"Exported: {export}" in first.output
    for step in ("exporting the graph", "fusing attention", "quantizing the weights to int8"):
        assert step in first.output
    assert "+onnx-int8" in first.output
    assert "once MODERATION_DETOXIFY_RUNTIME=onnx" in first.output  # the setting is still torch

    second = runner.invoke(args=["model", "export-onnx"])
    assert second.exit_code == 0, second.output
    assert f"Already exported, reused: {export}" in second.output

    forced = runner.invoke(args=["model", "export-onnx", "--force"])
    assert forced.exit_code == 0 and f"Exported: {export}" in forced.output


def test_the_export_command_without_a_checkpoint_fails_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("MODERATION_INSTANCE_PATH", str(tmp_path))
    app = create_app(base_config("sqlite://", MODERATION_SCORER_OBJECT=None,
                                 MODERATION_DETOXIFY_CHECKPOINT=str(tmp_path / "missing.ckpt")))

    result = app.test_cli_runner().invoke(args=["model", "export-onnx"])

    assert result.exit_code == 1
    assert "missing.ckpt does not exist" in result.output
