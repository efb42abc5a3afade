"""The ONNX Runtime path for Detoxify checkpoints: exported once for real (torch.onnx, the ORT
optimizer, int8 quantization), cached beside the checkpoint, reused while the checkpoint and
library versions match, and scored with the same windows and batches as torch.

Random tiny weights: these tests prove the export, the cache and the shared pipeline. How far
int8 moves the scores of a model with real margins is test_detoxify_onnx_agreement.py's."""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from moderation.scoring import DetoxifyOnnxScorer, DetoxifyScorer, ScorerUnavailable
from tests.tiny_detoxify import build_tiny_checkpoint

from .conftest import REPO_ROOT
from .test_detoxify_windows import LONG_TEXT, MIXED, SENTENCES

LOGGER = "moderation.scoring.detoxify_onnx"


@pytest.fixture
def checkpoint(tiny_checkpoint, tmp_path) -> Path:
    """A private copy of the tiny checkpoint, so each test starts without an export."""
    folder = tmp_path / "models"
    folder.mkdir()
    copy = folder / "original.ckpt"
    shutil.copy(tiny_checkpoint[0], copy)
    return copy


def _onnx(checkpoint: Path, hf_dir: Path, **options) -> DetoxifyOnnxScorer:
    return DetoxifyOnnxScorer(checkpoint=checkpoint, huggingface_config_path=hf_dir,
                              window_overlap=16, **options)


def _sidecar(checkpoint: Path) -> dict:
    return json.loads(checkpoint.with_name(checkpoint.name + ".int8.json").read_text())


def _stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def test_the_first_load_exports_an_int8_file_beside_the_checkpoint(checkpoint, tiny_checkpoint):
    import onnx
    import onnxruntime

    scorer = _onnx(checkpoint, tiny_checkpoint[1])
    assert not scorer.ready
    assert not checkpoint.with_name("original.ckpt.int8.onnx").exists()

    scorer.load()

    assert scorer.ready and scorer.exported
    assert scorer.export_path == checkpoint.with_name("original.ckpt.int8.onnx")
    record = _sidecar(checkpoint)
    assert record["checkpoint_sha256"] == hashlib.sha256(checkpoint.read_bytes()).hexdigest()
    assert record["versions"]["onnxruntime"] == onnxruntime.__version__
    assert record["runtime"] == "onnx-int8"
    ops = {node.op_type for node in onnx.load(str(scorer.export_path)).graph.node}
    assert "QAttention" in ops  # attention fused, then quantized
    assert "MatMulInteger" in ops  # the feed-forward layers run in int8
    # Nothing half-written is left behind.
    assert not [path for path in checkpoint.parent.iterdir() if path.is_dir()]


def test_the_scorer_says_it_is_the_onnx_int8_runtime(checkpoint, tiny_checkpoint):
    scorer = _onnx(checkpoint, tiny_checkpoint[1])
    assert scorer.identity.version == "unloaded+onnx-int8"

    scorer.load()

    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:12]
    torch_scorer = DetoxifyScorer(checkpoint=checkpoint, huggingface_config_path=tiny_checkpoint[1])
    torch_scorer.load()
    # Same model name (site models and screens keep working), a version told apart from torch's.
    assert scorer.identity.name == torch_scorer.identity.name == "detoxify-original"
    assert torch_scorer.identity.version == f"sha256:{digest}"
    assert scorer.identity.version == f"sha256:{digest}+onnx-int8"
    assert scorer.identity.label == f"detoxify-original (sha256:{digest}+onnx-int8)"
    assert scorer.produces == torch_scorer.produces


def test_a_second_load_reuses_the_export_without_writing_it(checkpoint, tiny_checkpoint, caplog):
    _onnx(checkpoint, tiny_checkpoint[1]).load()
    export = checkpoint.with_name("original.ckpt.int8.onnx")
    before = _stamp(export)

    again = _onnx(checkpoint, tiny_checkpoint[1])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        again.load()

    assert not again.exported
    assert _stamp(export) == before
    assert f"reusing the ONNX export {export}" in caplog.text
    assert again.score(["thanks for the article"])[0].labels


def test_a_changed_checkpoint_is_exported_again(checkpoint, tiny_checkpoint, tmp_path, caplog):
    first = _onnx(checkpoint, tiny_checkpoint[1])
    first.load()
    [before] = first.score([SENTENCES[0]])
    retrained, _ = build_tiny_checkpoint(tmp_path / "retrained", seed=1)
    shutil.copy(retrained, checkpoint)

    second = _onnx(checkpoint, tiny_checkpoint[1])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        second.load()

    assert second.exported
    assert "changed since" in caplog.text
    assert _sidecar(checkpoint)["checkpoint_sha256"] == hashlib.sha256(
        retrained.read_bytes()).hexdigest()
    assert second.identity.version != first.identity.version
    [after] = second.score([SENTENCES[0]])
    assert after.labels != before.labels  # the new weights score, not the old export


def test_a_copied_checkpoint_with_the_same_bytes_is_not_exported_again(checkpoint,
                                                                       tiny_checkpoint):
    _onnx(checkpoint, tiny_checkpoint[1]).load()
    export = checkpoint.with_name("original.ckpt.int8.onnx")
    before = _stamp(export)
    os.utime(checkpoint, ns=(1_000_000_000, 1_000_000_000))  # as a copy or a restore leaves it

    again = _onnx(checkpoint, tiny_checkpoint[1])
    again.load()

    assert not again.exported and _stamp(export) == before
    assert _sidecar(checkpoint)["checkpoint_mtime_ns"] == 1_000_000_000  # no re-hash next time


def test_an_export_made_by_other_library_versions_is_made_again(checkpoint, tiny_checkpoint,
                                                                caplog):
    _onnx(checkpoint, tiny_checkpoint[1]).load()
    sidecar = checkpoint.with_name("original.ckpt.int8.json")
    record = _sidecar(checkpoint)
    record["versions"]["onnxruntime"] = "1.16.0"
    sidecar.write_text(json.dumps(record))

    again = _onnx(checkpoint, tiny_checkpoint[1])
    with caplog.at_level(logging.INFO, logger=LOGGER):
        again.load()

    assert again.exported
    assert "1.16.0" in caplog.text
    assert _sidecar(checkpoint)["versions"]["onnxruntime"] != "1.16.0"


def test_a_corrupt_export_is_replaced_by_a_fresh_one(checkpoint, tiny_checkpoint, caplog):
    _onnx(checkpoint, tiny_checkpoint[1]).load()
    export = checkpoint.with_name("original.ckpt.int8.onnx")
    export.write_bytes(export.read_bytes()[: export.stat().st_size // 3])  # a torn copy

    again = _onnx(checkpoint, tiny_checkpoint[1])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        again.load()

    assert again.exported
    assert "ONNX Runtime cannot read it" in caplog.text
    assert len(again.score(MIXED)) == len(MIXED)


def test_an_export_of_another_checkpoint_is_not_trusted_even_beside_a_matching_record(
        checkpoint, tiny_checkpoint, tmp_path, caplog):
    _onnx(checkpoint, tiny_checkpoint[1]).load()
    other, _ = build_tiny_checkpoint(tmp_path / "other", seed=2)
    _onnx(other, tiny_checkpoint[1]).load()
    # Someone copies the other model's export over this one; this sidecar still matches.
    shutil.copy(other.with_name("tiny.ckpt.int8.onnx"),
                checkpoint.with_name("original.ckpt.int8.onnx"))

    again = _onnx(checkpoint, tiny_checkpoint[1])
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        again.load()

    assert again.exported
    assert "the export's own metadata" in caplog.text


def test_without_onnxruntime_loading_is_refused_with_the_way_out(checkpoint, tiny_checkpoint,
                                                                 monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what a missing package looks like
    scorer = _onnx(checkpoint, tiny_checkpoint[1])

    with pytest.raises(ScorerUnavailable, match="ONNX Runtime is not installed.*"
                                                "MODERATION_DETOXIFY_RUNTIME=torch"):
        scorer.load()
    assert not scorer.ready
    assert not checkpoint.with_name("original.ckpt.int8.onnx").exists()


def test_the_float_export_scores_exactly_as_torch_does_window_for_window(checkpoint,
                                                                        tiny_checkpoint):
    """Without quantization the ONNX path must be the torch path: same windows, same batches,
    same columns, same sigmoid. Only int8 itself may move the numbers."""
    torch_scorer = DetoxifyScorer(checkpoint=checkpoint, huggingface_config_path=tiny_checkpoint[1],
                                  window_overlap=16)
    float_scorer = _onnx(checkpoint, tiny_checkpoint[1], quantize=False, batch_size=3)
    texts = [*MIXED, *SENTENCES, "hello " + "ab" * 45 + " bye", LONG_TEXT + " you idiot"]

    expected, got = torch_scorer.score(texts), float_scorer.score(texts)

    assert float_scorer.export_path.name == "original.ckpt.fp32.onnx"
    assert float_scorer.identity.version.endswith("+onnx-fp32")
    for one, other in zip(expected, got, strict=True):
        assert (other.windows, other.top_window) == (one.windows, one.top_window)
        assert other.labels.keys() == one.labels.keys()
        for label, value in one.labels.items():
            assert other.labels[label] == pytest.approx(value, abs=1e-4), label
    assert max(scored.windows for scored in got) >= 4  # long texts really were windowed
    assert len({round(scored.risk, 4) for scored in got}) > 5  # and the texts score apart


_LOAD_AND_REPORT = """
import json, logging, sys
from moderation.scoring import DetoxifyOnnxScorer
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
checkpoint, hf_dir, cache_dir = sys.argv[1:4]
scorer = DetoxifyOnnxScorer(checkpoint=checkpoint, huggingface_config_path=hf_dir,
                            cache_dir=cache_dir or None)
scorer.load()
scorer.score(["thanks for the article"])
print(json.dumps({"exported": scorer.exported, "path": str(scorer.export_path)}))
"""


def _run_loader(checkpoint: Path, hf_dir: Path, cache_dir: Path | None, *, home: Path,
                drop_write_override: bool = False) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1",
           "XDG_CACHE_HOME": str(home / "xdg")}
    return subprocess.Popen(
        [sys.executable, "-c", _LOAD_AND_REPORT, str(checkpoint), str(hf_dir),
         str(cache_dir or "")],
        cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_without_write_override if drop_write_override else None)


def _finish(process: subprocess.Popen) -> tuple[dict, str]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1]), err


def _without_write_override() -> None:
    """In the child, before exec: root without CAP_DAC_OVERRIDE obeys permission bits, as the
    unprivileged user a worker runs as does."""
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _can_drop_write_override() -> bool:
    if os.geteuid() != 0:
        return True  # nothing to drop: permission bits already apply
    probe = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_without_write_override,
                           capture_output=True, check=False)
    return probe.returncode == 0


def test_a_read_only_checkpoint_folder_sends_the_export_to_the_cache_dir(checkpoint,
                                                                         tiny_checkpoint,
                                                                         tmp_path):
    if not _can_drop_write_override():
        pytest.skip("running as root without CAP_SETPCAP: cannot make a folder read-only")
    cache_dir = tmp_path / "instance" / "onnx"
    checkpoint.parent.chmod(0o555)
    try:
        instance = _run_loader(checkpoint, tiny_checkpoint[1], cache_dir, home=tmp_path,
                               drop_write_override=True)
        report, log = _finish(instance)
        xdg = _run_loader(checkpoint, tiny_checkpoint[1], None, home=tmp_path,
                          drop_write_override=True)
        xdg_report, _ = _finish(xdg)
    finally:
        checkpoint.parent.chmod(0o755)

    assert report["exported"]
    export = Path(report["path"])
    assert export.parent == cache_dir and export.name.startswith("original.ckpt-")
    assert export.with_suffix(".json").is_file()
    assert f"{checkpoint.parent} is not writable" in log
    assert sorted(path.name for path in checkpoint.parent.iterdir()) == ["original.ckpt"]
    # Without a folder from the app, the user's cache (XDG_CACHE_HOME) takes it.
    assert xdg_report["exported"]
    assert Path(xdg_report["path"]).parent == tmp_path / "xdg" / "moderation" / "onnx"


def test_two_processes_starting_together_export_once_and_leave_a_whole_file(checkpoint,
                                                                           tiny_checkpoint,
                                                                           tmp_path):
    workers = [_run_loader(checkpoint, tiny_checkpoint[1], None, home=tmp_path)
               for _ in range(2)]
    reports = [_finish(worker)[0] for worker in workers]

    assert sorted(report["exported"] for report in reports) == [False, True]
    assert {report["path"] for report in reports} == {
        str(checkpoint.with_name("original.ckpt.int8.onnx"))}
    assert not [path for path in checkpoint.parent.iterdir() if path.is_dir()]
    third = _onnx(checkpoint, tiny_checkpoint[1])
    third.load()
    assert not third.exported
