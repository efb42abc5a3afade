"""Detoxify on ONNX Runtime, int8: the checkpoint is loaded through Detoxify's constructor as
for torch, exported once to ONNX with attention fused and weights quantized to int8, cached
beside the checkpoint, and scored with the same windows and length-sorted batches.

The export is reused while the checkpoint (sha256) and the versions of onnxruntime, onnx, torch
and transformers are unchanged; anything else exports again. Files are written under a temporary
name and renamed into place, so a reader never sees half an export.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .base import ScorerError, ScorerUnavailable
from .detoxify_scorer import DetoxifyScorer, Forward, _Loaded, sha256_of

log = logging.getLogger(__name__)

# Bump when the export steps change, so caches made by the old steps are replaced.
RECIPE = 3  # 3: signed 7-bit weights (no saturation on AVX2-only CPUs, u8s8 kernels)
_METADATA_KEY = "moderation.detoxify_export"
# The ORT transformer optimizer has no separate RoBERTa/ALBERT type: its "bert" fusions cover
# every encoder Detoxify publishes (BERT, RoBERTa, XLM-RoBERTa, ALBERT).
_ORT_MODEL_TYPE = "bert"
# The fused float graph must match the checkpoint this closely before it is quantized; a
# broken fusion is off by tenths, float reordering by ~1e-6.
_FUSED_TOLERANCE = 1e-3
_PROBE_WORDS = "the quick brown fox jumps over the lazy dog".split()


def default_cache_dir() -> Path:
    """Where exports go when the checkpoint's folder is read-only and no folder was given."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(cache) / "moderation" / "onnx"


@dataclass(frozen=True)
class CachePaths:
    model: Path
    sidecar: Path  # JSON: which checkpoint and versions the model was exported from

    @property
    def lock(self) -> Path:
        return self.model.with_name(f".{self.model.name}.lock")


def cache_paths(checkpoint: Path, folder: Path | None, kind: str) -> CachePaths:
    """<checkpoint>.<kind>.onnx beside the checkpoint; in another folder the name also carries
    a hash of the checkpoint's path, so two checkpoints named alike do not share a cache."""
    if folder is None:
        base = checkpoint.with_name(f"{checkpoint.name}.{kind}")
    else:
        where = hashlib.sha256(str(checkpoint.resolve()).encode()).hexdigest()[:12]
        base = folder / f"{checkpoint.name}-{where}.{kind}"
    return CachePaths(base.with_name(base.name + ".onnx"), base.with_name(base.name + ".json"))


def runtime_versions() -> dict[str, str]:
    """The libraries an export depends on; onnx is only needed to export, so it is looked up
    rather than imported."""
    import onnxruntime
    import torch
    import transformers

    try:
        onnx_version = importlib.metadata.version("onnx")
    except importlib.metadata.PackageNotFoundError:
        onnx_version = "not installed"
    return {"onnxruntime": onnxruntime.__version__, "onnx": onnx_version,
            "torch": torch.__version__, "transformers": transformers.__version__}


class DetoxifyOnnxScorer(DetoxifyScorer):
    """DetoxifyScorer whose forward pass runs an int8 ONNX export of the same checkpoint."""

    def __init__(
        self,
        *args: Any,
        cache_dir: str | os.PathLike | None = None,
        threads: int | None = None,
        quantize: bool = True,
        progress: Callable[[str], None] | None = None,
        **kwargs: Any,
    ) -> None:
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        # The suffix keeps int8 scores apart from torch scores of the same checkpoint.
        self.kind = "int8" if quantize else "fp32"
        self.version_suffix = f"+onnx-{self.kind}"
        super().__init__(*args, **kwargs)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.threads = threads
        self.quantize = quantize
        self.progress = progress
        self.export_path: Path | None = None  # the ONNX file in use, once loaded
        self.exported = False  # whether this load wrote it (else it reused the cache)
        self._force_export = False

    def export(self, *, force: bool = False) -> Path:
        """Export now (unless a matching export is cached and `force` is off) and load it."""
        self._force_export = force
        try:
            self.load()
        finally:
            self._force_export = False
        return self.export_path

    def _require_runtime(self) -> None:
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(
                f"ONNX Runtime is not installed ({exc}): install onnxruntime and onnx, or "
                "score with torch (MODERATION_DETOXIFY_RUNTIME=torch)"
            ) from exc

    def _runtime(self, loaded: _Loaded, checkpoint_sha256: str | None) -> _Loaded:
        checkpoint = self.checkpoint_file()
        key = _ExportKey(checkpoint, checkpoint_sha256, self.kind)
        beside = cache_paths(checkpoint, None, self.kind)
        session = None if self._force_export else self._reuse(beside, key)
        paths = beside
        if session is None and not _writable(checkpoint.parent):
            paths = cache_paths(checkpoint, self.cache_dir or default_cache_dir(), self.kind)
            self._say(f"{checkpoint.parent} is not writable: the ONNX export goes to "
                      f"{paths.model.parent}")
            session = None if self._force_export else self._reuse(paths, key)
        if session is None:
            session = self._export_locked(paths, key, loaded)
        self.export_path = paths.model
        forward = _onnx_forward(session, loaded.tokenizer,
                                [column for _, column in loaded.label_columns])
        # The torch model is dropped here: the session holds everything scoring needs.
        return replace(loaded, model=session, forward=forward)

    def _export_locked(self, paths: CachePaths, key: _ExportKey, loaded: _Loaded) -> Any:
        try:
            paths.model.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ScorerError(f"cannot create the ONNX cache folder {paths.model.parent}: "
                              f"{exc}") from exc
        with _exclusive(paths.lock):
            # Another process may have finished the same export while this one waited.
            session = None if self._force_export else self._reuse(paths, key, quiet=True)
            if session is not None:
                return session
            self._export(paths, key, loaded)
        try:
            session = self._session(paths.model)
        except Exception as exc:
            raise ScorerError(f"ONNX Runtime cannot load the fresh export {paths.model}: "
                              f"{exc}") from exc
        self.exported = True
        return session

    def _reuse(self, paths: CachePaths, key: _ExportKey, quiet: bool = False) -> Any | None:
        """A session on the cached export when it matches the checkpoint and versions."""
        if not paths.model.is_file():
            return None
        stale = key.why_stale(_read_record(paths.sidecar))
        if stale is None:
            try:
                session = self._session(paths.model)
            except Exception as exc:  # truncated, corrupt, or not ONNX at all
                stale = f"ONNX Runtime cannot read it ({type(exc).__name__}: {exc})"
            else:
                stale = key.why_stale(_embedded_record(session), embedded=True)
        if stale is not None:
            if not quiet:
                log.warning("not reusing the ONNX export %s: %s; exporting again",
                            paths.model, stale)
            return None
        key.refresh_sidecar(paths.sidecar)
        self._say(f"reusing the ONNX export {paths.model}")
        return session

    def _export(self, paths: CachePaths, key: _ExportKey, loaded: _Loaded) -> None:
        try:
            import onnx  # noqa: F401
        except ImportError as exc:
            raise ScorerUnavailable(f"exporting to ONNX needs the onnx package ({exc})") from exc
        started = time.monotonic()
        record = key.record()  # hashes the checkpoint now, before the slow steps
        workdir = Path(tempfile.mkdtemp(prefix=f".{paths.model.name}.", dir=paths.model.parent))
        try:
            with _quiet_onnxruntime():
                exported = _export_fused(loaded.model, loaded.tokenizer, loaded.max_length,
                                         workdir, self._say)
                if self.quantize:
                    self._say("quantizing the weights to int8")
                    _quantize(exported, workdir / "int8.onnx")
                    exported = workdir / "int8.onnx"
            _write_with_record(exported, workdir / "final.onnx", record)
            # Renamed into place: another process sees the old file or the new, never half.
            os.replace(workdir / "final.onnx", paths.model)
            record["export_seconds"] = round(time.monotonic() - started, 1)
            _write_json_atomically(paths.sidecar, record)
        except ScorerError:
            raise
        except Exception as exc:
            raise ScorerError(f"could not export Detoxify {self.model_type} to ONNX: "
                              f"{type(exc).__name__}: {exc}") from exc
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        megabytes = paths.model.stat().st_size / 1e6
        self._say(f"wrote {paths.model} ({megabytes:.2f} MB) in "
                  f"{time.monotonic() - started:.0f} s")

    def _session(self, path: Path) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads or _torch_threads()
        # One graph at a time: batches already run one after another.
        options.inter_op_num_threads = 1
        return onnxruntime.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])

    def _say(self, message: str) -> None:
        if self.progress is None:
            log.info("%s", message)
        else:  # the command line shows it; the log would repeat it
            log.debug("%s", message)
            self.progress(message)


class _ExportKey:
    """What an export must have been made from to be reused."""

    def __init__(self, checkpoint: Path, sha256: str | None, kind: str) -> None:
        self.checkpoint = checkpoint
        self._sha256 = sha256
        self.kind = kind
        self.versions = runtime_versions()

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = sha256_of(self.checkpoint)
        return self._sha256

    def record(self) -> dict[str, Any]:
        stat = self.checkpoint.stat()
        return {"checkpoint": str(self.checkpoint), "checkpoint_sha256": self.sha256,
                "checkpoint_size": stat.st_size, "checkpoint_mtime_ns": stat.st_mtime_ns,
                "runtime": f"onnx-{self.kind}", "recipe": RECIPE, "versions": self.versions}

    def why_stale(self, record: dict | None, embedded: bool = False) -> str | None:
        where = "the export's own metadata" if embedded else "its JSON sidecar"
        if record is None:
            return f"{where} is missing or unreadable"
        if record.get("runtime") != f"onnx-{self.kind}" or record.get("recipe") != RECIPE:
            return f"{where} names another export recipe"
        if record.get("versions") != self.versions:
            return f"it was made with {record.get('versions')}, this process has {self.versions}"
        if not embedded and self._sha256 is None and self._same_file(record):
            self._sha256 = record.get("checkpoint_sha256")  # unchanged size and mtime: no hash
        if record.get("checkpoint_sha256") != self.sha256:
            exported_from = str(record.get("checkpoint_sha256"))[:12]
            return (f"the checkpoint {self.checkpoint} changed since the export ({where} names "
                    f"sha256 {exported_from}…, the file is now {self.sha256[:12]}…)")
        return None

    def _same_file(self, record: dict) -> bool:
        stat = self.checkpoint.stat()
        return (record.get("checkpoint_size"), record.get("checkpoint_mtime_ns")) == (
            stat.st_size, stat.st_mtime_ns)

    def refresh_sidecar(self, sidecar: Path) -> None:
        """A copied or touched checkpoint with the same content: remember its new mtime so the
        next start does not hash it again."""
        record = _read_record(sidecar)
        if record is None or self._same_file(record):
            return
        stat = self.checkpoint.stat()
        record.update(checkpoint_size=stat.st_size, checkpoint_mtime_ns=stat.st_mtime_ns)
        with contextlib.suppress(OSError):
            _write_json_atomically(sidecar, record)


def _writable(folder: Path) -> bool:
    """Tried rather than asked: only a real write shows whether writing works (capabilities,
    ACLs and network filesystems all escape os.access)."""
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".moderation-write-test-"):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _exclusive(lock_path: Path):
    """One export per cache file at a time across processes (the rename alone keeps the file
    whole; the lock saves a second worker from repeating minutes of work)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: the atomic rename still keeps the file whole
        yield
        return
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_record(sidecar: Path) -> dict | None:
    try:
        record = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def _embedded_record(session: Any) -> dict | None:
    text = session.get_modelmeta().custom_metadata_map.get(_METADATA_KEY)
    try:
        record = json.loads(text) if text else None
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def _write_json_atomically(path: Path, record: dict) -> None:
    handle = tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False, encoding="utf-8")
    try:
        with handle:
            json.dump(record, handle, indent=2)
            handle.write("\n")
        os.chmod(handle.name, 0o644)  # not secret; workers may run as another user
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def _write_with_record(source: Path, target: Path, record: dict) -> None:
    """Copy the ONNX model, carrying the export's record inside it: the file and what it was
    made from can then never disagree, whatever happens to the sidecar."""
    import onnx

    model = onnx.load(str(source))
    embedded = {key: record[key] for key in ("checkpoint_sha256", "runtime", "recipe",
                                             "versions")}
    entry = model.metadata_props.add()
    entry.key, entry.value = _METADATA_KEY, json.dumps(embedded, sort_keys=True)
    onnx.save(model, str(target))


def _probe_inputs(tokenizer: Any, max_length: int) -> dict[str, Any]:
    """Two texts of different lengths (so one is padded), and one window filled to the limit."""
    long_text = " ".join(_PROBE_WORDS * max_length)
    texts = ["the quick brown fox", "jumps", long_text]
    return tokenizer(texts, truncation=True, max_length=max_length, padding=True,
                     return_tensors="pt")


def _export_fused(model: Any, tokenizer: Any, max_length: int, workdir: Path,
                  say: Callable[[str], None]) -> Path:
    """torch.onnx (TorchScript exporter) on the eager-attention model, then the ORT transformer
    optimizer's attention fusion; checked against the checkpoint before it is returned."""
    import numpy as np
    import torch
    from onnxruntime.transformers import optimizer

    # SDPA attention exports to a graph the optimizer cannot fuse; the eager code path can.
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    else:
        model.config._attn_implementation = "eager"
    model.eval()
    model.to("cpu")  # exported and checked on the CPU, wherever MODERATION_DEVICE put it
    probes = _probe_inputs(tokenizer, max_length)
    names = list(probes.keys())
    with torch.inference_mode():
        expected = torch.sigmoid(model(**probes)[0].float()).numpy()
    # Traced on a short padded batch: traced at the full window length, the position ids'
    # slice disappears from the graph and the fused embedding then mis-handles shorter inputs.
    sample = tokenizer(["the quick brown fox", "jumps"], padding=True, return_tensors="pt")
    wrapper = _logits_module(model, names).eval()  # eval: the exporter restores the wrapper's mode
    raw = workdir / "raw.onnx"
    say("exporting the graph (torch.onnx, TorchScript exporter, eager attention)")
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer and deprecation chatter, once per export
        torch.onnx.export(wrapper, tuple(sample[name] for name in names), str(raw),
                          input_names=names, output_names=["logits"],
                          dynamic_axes={**dynamic, "logits": {0: "batch"}},
                          opset_version=17, do_constant_folding=True, dynamo=False)
    config = model.config
    say(f"fusing attention (ORT transformer optimizer, {config.num_attention_heads} heads, "
        f"hidden size {config.hidden_size})")
    optimized = optimizer.optimize_model(str(raw), model_type=_ORT_MODEL_TYPE,
                                         num_heads=config.num_attention_heads,
                                         hidden_size=config.hidden_size)
    fused_layers = optimized.get_fused_operator_statistics().get("Attention", 0)
    if fused_layers < getattr(config, "num_hidden_layers", 0):
        log.warning("only %s of %s attention layers were fused: scoring will be slower",
                    fused_layers, config.num_hidden_layers)
    fused = workdir / "fused.onnx"
    optimized.save_model_to_file(str(fused))
    say(f"checking the fused graph against the checkpoint ({fused_layers} attention layers "
        "fused)")
    import onnxruntime

    session = onnxruntime.InferenceSession(str(fused), providers=["CPUExecutionProvider"])
    logits = session.run(["logits"], {name: probes[name].numpy() for name in names})[0]
    gap = float(np.abs(_sigmoid(logits) - expected).max())
    if not gap <= _FUSED_TOLERANCE:
        raise ScorerError(f"the fused ONNX graph disagrees with the checkpoint by {gap:.4f} "
                          f"(more than {_FUSED_TOLERANCE}); not using it")
    return fused


def _logits_module(model: Any, names: list[str]) -> Any:
    """A module taking the tokenizer's tensors positionally and returning only the logits."""
    import torch

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            return self.model(**dict(zip(names, tensors, strict=True)))[0]

    return Logits()


def _quantize(source: Path, target: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Signed weights in 7 bits (reduce_range): CPUs without VNNI (AVX2 only, as on many AMD
    # EPYC hosts) multiply u8 by s8 through VPMADDUBSW, whose 16-bit sums saturate with full
    # 8-bit weights (scores moved by 0.10 on the agreement test's model). Seven bits cannot
    # saturate, and keep the fast u8s8 kernels: 36% faster than unsigned weights (recipe 2)
    # on such a host, within the agreement test's 0.02 there and on VNNI CPUs alike.
    # The fused ops have no ONNX type inference: their outputs default to float.
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, reduce_range=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


@contextlib.contextmanager
def _quiet_onnxruntime():
    """The optimizer and quantizer log a line per node (hundreds for bert-base), some to the
    root logger, and advice meant for static image models: keep their warnings only."""
    import onnxruntime
    import onnxruntime.quantization  # noqa: F401  (imported first, so their loggers exist)
    import onnxruntime.transformers.optimizer  # noqa: F401

    package = os.path.dirname(onnxruntime.__file__)

    def keep(record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Please consider to run pre-processing"):
            return False
        return record.levelno >= logging.WARNING or not record.pathname.startswith(package)

    # The optimizer's modules are imported under bare names ("fusion_base") and log to
    # loggers of those names.
    chatty = [logging.getLogger(name) for name, module in list(sys.modules.items())
              if getattr(module, "__file__", None) and module.__file__.startswith(package)
              and name in logging.root.manager.loggerDict]
    saved = [(logger, logger.level) for logger in chatty]
    root = logging.getLogger()
    root.addFilter(keep)
    for logger in chatty:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        root.removeFilter(keep)
        for logger, level in saved:
            logger.setLevel(level)


def _onnx_forward(session: Any, tokenizer: Any, columns: list[int]) -> Forward:
    import numpy as np

    names = [graph_input.name for graph_input in session.get_inputs()]

    def forward(features: list[dict[str, Any]]) -> list[list[float]]:
        padded = tokenizer.pad(features, return_tensors="np")
        feeds = {name: np.asarray(padded[name], dtype=np.int64) for name in names}
        logits = session.run(["logits"], feeds)[0][:, columns]
        return _sigmoid(logits).tolist()

    return forward


def _sigmoid(logits: Any) -> Any:
    import numpy as np

    # float64: exp(-x) only overflows past |x| ~ 700, far beyond any logit.
    return 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))


def _torch_threads() -> int:
    """As many threads as torch uses here (OMP_NUM_THREADS, else the physical cores)."""
    import torch

    return max(1, torch.get_num_threads())
