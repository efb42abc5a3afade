"""Detoxify, loaded through its own constructor, scored with our own batching and windowing.

Detoxify.predict truncates at the model's max length and pads a batch to its longest text.
Here each text is split into overlapping windows that fit the model, all windows are sorted
by token length and batched, and each label of a text is the max over its windows.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .base import (
    BASE_LABELS,
    ScoredText,
    ScorerError,
    ScorerIdentity,
    ScorerUnavailable,
    check_texts,
)
from .windows import plan_windows, window_texts

# Mirrors detoxify.MODEL_URLS (a test checks they agree) so that nothing here imports torch.
_RELEASES = "https://github.com/unitaryai/detoxify/releases/download/"
CHECKPOINT_URLS: dict[str, str] = {
    "original": _RELEASES + "v0.1-alpha/toxic_original-c1212f89.ckpt",
    "unbiased": _RELEASES + "v0.3-alpha/toxic_debiased-c7548aa0.ckpt",
    "multilingual": _RELEASES + "v0.4-alpha/multilingual_debiased-0b549669.ckpt",
    "original-small": _RELEASES + "v0.1.2/original-albert-0e1d6498.ckpt",
    "unbiased-small": _RELEASES + "v0.1.2/unbiased-albert-c8519128.ckpt",
}
# The Hugging Face model each released checkpoint names as its model_type (config + tokenizer).
BASE_MODELS: dict[str, str] = {
    "original": "bert-base-uncased",
    "unbiased": "roberta-base",
    "multilingual": "xlm-roberta-base",
    "original-small": "albert-base-v2",
    "unbiased-small": "albert-base-v2",
}
_TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.txt",
    "vocab.json",
    "spiece.model",
    "sentencepiece.bpe.model",
)
# The labels each released model predicts ("original" was trained before Jigsaw's
# sexual_explicit label existed).
_WITHOUT_SEXUAL = ("toxicity", "severe_toxicity", "obscene", "threat", "insult",
                   "identity_attack")
PRODUCES: dict[str, tuple[str, ...]] = {
    "original": _WITHOUT_SEXUAL,
    "original-small": _WITHOUT_SEXUAL,
    "unbiased": BASE_LABELS,
    "unbiased-small": BASE_LABELS,
    "multilingual": BASE_LABELS,
}
# Models whose position ids start after the padding index, so two positions are never used.
_OFFSET_POSITION_MODELS = {
    "roberta",
    "xlm-roberta",
    "xlm-roberta-xl",
    "camembert",
    "data2vec-text",
    "longformer",
}


def checkpoint_filename(model_type: str) -> str:
    return CHECKPOINT_URLS[model_type].rsplit("/", 1)[1]


def torch_hub_checkpoint_dir() -> Path:
    """Where torch.hub caches downloads, by torch's own rule, without importing torch."""
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(cache, "torch")
    return Path(os.path.expanduser(torch_home)) / "hub" / "checkpoints"


def hf_hub_cache_dir() -> Path:
    """Where huggingface_hub caches models, by its own rule, without importing it."""
    cache = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if not cache:
        xdg = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
        home = os.environ.get("HF_HOME") or os.path.join(xdg, "huggingface")
        cache = os.path.join(home, "hub")
    return Path(os.path.expanduser(os.path.expandvars(cache)))


def hf_model_files(repo_id: str) -> Path | None:
    """The folder holding `repo_id`'s config and tokenizer offline, or None.

    transformers resolves a name to a folder of that name in the working directory first,
    then to the hub cache's snapshot that refs/main points at.
    """
    candidates = [Path(repo_id)]
    repo_cache = hf_hub_cache_dir() / ("models--" + repo_id.replace("/", "--"))
    ref = repo_cache / "refs" / "main"
    if ref.is_file():
        candidates.append(repo_cache / "snapshots" / ref.read_text().strip())
    for folder in candidates:
        has_tokenizer = any((folder / name).is_file() for name in _TOKENIZER_FILES)
        if (folder / "config.json").is_file() and has_tokenizer:
            return folder
    return None


def detoxify_weights_available(
    model_type: str,
    checkpoint: str | os.PathLike | None = None,
    huggingface_config_path: str | os.PathLike | None = None,
) -> tuple[bool, str]:
    """(available, why), from the filesystem alone: no network, no torch."""
    if checkpoint:
        return _local_files_available(Path(checkpoint), huggingface_config_path)
    if model_type not in CHECKPOINT_URLS:
        return False, f"unknown Detoxify model type {model_type!r} (known: {_known_types()})"
    cached = torch_hub_checkpoint_dir() / checkpoint_filename(model_type)
    if not cached.is_file():
        return False, (
            f"no Detoxify checkpoint configured and {cached.name} is not in the "
            f"torch hub cache {cached.parent}"
        )
    base = BASE_MODELS[model_type]
    if hf_model_files(base) is None:
        return False, (
            f"Detoxify weights are cached at {cached} but the config and tokenizer "
            f"of {base} are not in the Hugging Face cache {hf_hub_cache_dir()}"
        )
    return True, f"Detoxify {model_type} weights are cached at {cached}"


def _local_files_available(checkpoint: Path, hf_config: str | os.PathLike | None):
    if not checkpoint.is_file():
        return False, f"the Detoxify checkpoint {checkpoint} does not exist"
    if hf_config:
        config_file = Path(hf_config) / "config.json"
        if not config_file.is_file():
            return False, f"the Hugging Face config {config_file} does not exist"
        return True, f"Detoxify checkpoint {checkpoint} with Hugging Face files in {hf_config}"
    return True, f"Detoxify checkpoint {checkpoint}"


def _known_types() -> str:
    return ", ".join(CHECKPOINT_URLS)


def _offline_requested() -> bool:
    return any(
        os.environ.get(key, "").strip().lower() in {"1", "true", "yes", "on"}
        for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def _go_offline() -> None:
    """Stop transformers asking the hub anything (a lookup here waits ~26 s to fail)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    # huggingface_hub reads the variable once at import; if it is already in, flip its copy.
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True


@contextlib.contextmanager
def _base_models_resolve_to(hf_config: Path | None):
    """Let a published checkpoint load offline from the config folder it is given.

    A released checkpoint names its base model ("bert-base-uncased"), and Detoxify asks
    transformers for that model's config even when `huggingface_config_path` is given (the
    answer is then unused). Offline that lookup fails unless the name resolves locally, so for
    the duration of the load the Hugging Face cache is a private folder in which each base
    model's name points at the given config."""
    if hf_config is None:
        yield
        return
    import huggingface_hub.constants as hub_constants

    with tempfile.TemporaryDirectory(prefix="detoxify-hf-") as cache:
        for repo_id in set(BASE_MODELS.values()):
            repo = Path(cache, "models--" + repo_id.replace("/", "--"))
            (repo / "snapshots" / "local").mkdir(parents=True)
            (repo / "snapshots" / "local" / "config.json").symlink_to(
                Path(hf_config, "config.json").resolve())
            (repo / "refs").mkdir()
            (repo / "refs" / "main").write_text("local")
        saved = hub_constants.HF_HUB_CACHE
        hub_constants.HF_HUB_CACHE = cache
        try:
            yield
        finally:
            hub_constants.HF_HUB_CACHE = saved


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# One padded batch of tokenized windows in, one row of probabilities per window out.
Forward = Callable[[list[dict[str, Any]]], list[list[float]]]


@dataclass(frozen=True)
class _Loaded:
    """What load() produces; replaced as a whole so readers never see half of it."""

    model: Any  # what `forward` runs: a torch module, or an ONNX Runtime session
    forward: Forward
    tokenizer: Any
    label_columns: tuple[tuple[str, int], ...]  # (our label, model output column)
    max_length: int  # tokens per window, special tokens included
    budget: int  # text tokens per window
    overlap: int  # text tokens repeated between consecutive windows


class DetoxifyScorer:
    # Added to the version of what scored a comment when the runtime is not torch.
    version_suffix = ""

    def __init__(
        self,
        model_type: str = "original",
        checkpoint: str | os.PathLike | None = None,
        huggingface_config_path: str | os.PathLike | None = None,
        device: str = "cpu",
        batch_size: int = 16,
        window_overlap: int = 64,
        max_length: int | None = None,
    ) -> None:
        _check_arguments(model_type, checkpoint, batch_size, window_overlap, max_length)
        self.model_type = model_type
        self.checkpoint = Path(checkpoint) if checkpoint else None
        self.huggingface_config_path = (
            Path(huggingface_config_path) if huggingface_config_path else None
        )
        self.device = device
        self.batch_size = batch_size
        self.window_overlap = window_overlap
        self.max_length = max_length
        version = "unloaded" if self.checkpoint else Path(checkpoint_filename(model_type)).stem
        self.identity = ScorerIdentity(f"detoxify-{model_type}", version + self.version_suffix)
        self._loaded: _Loaded | None = None
        self._load_lock = threading.Lock()
        # Fast tokenizers keep truncation state and raise "Already borrowed" when shared.
        self._score_lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self._loaded is not None

    @property
    def produces(self) -> tuple[str, ...]:
        """The checkpoint's labels once loaded; before that, what its model type publishes."""
        if self._loaded is not None:
            return tuple(name for name, _ in self._loaded.label_columns)
        return PRODUCES.get(self.model_type, BASE_LABELS)

    def load(self) -> None:
        with self._load_lock:
            if self._loaded is None:
                self._loaded = self._load()

    def score(self, texts: Sequence[str]) -> list[ScoredText]:
        texts = check_texts(texts)
        if not texts:
            return []
        self.load()
        with self._score_lock:
            try:
                plans = [self._plan(text) for text in texts]
                rows = _run_model(self._loaded, window_texts(texts, plans), self.batch_size)
            except Exception as exc:
                raise ScorerError(f"Detoxify could not score {len(texts)} texts: {exc}") from exc
        return _combine(plans, rows, self._loaded.label_columns)

    def window_spans(self, text: str) -> list[tuple[int, int]]:
        """The (start, end) character spans `text` is scored in; one span when it fits."""
        self.load()
        with self._score_lock:
            return self._plan(text)

    def checkpoint_file(self) -> Path:
        """The checkpoint on disk: the configured one, or where torch.hub keeps the download."""
        return self.checkpoint or torch_hub_checkpoint_dir() / checkpoint_filename(self.model_type)

    def _load(self) -> _Loaded:
        self._require_runtime()
        checkpoint_sha256 = None
        if self.checkpoint is not None:
            self._require_local_files()
            _go_offline()
            checkpoint_sha256 = sha256_of(self.checkpoint)
            version = "sha256:" + checkpoint_sha256[:12]
        else:
            self._prepare_download()
            version = Path(checkpoint_filename(self.model_type)).stem
        detox = self._construct()
        loaded = self._runtime(_prepare(detox, self.max_length, self.window_overlap),
                               checkpoint_sha256)
        self.identity = ScorerIdentity(self.identity.name, version + self.version_suffix)
        return loaded

    def _require_runtime(self) -> None:
        """Fail before the (slow) model load when the runtime's package is missing."""

    def _runtime(self, loaded: _Loaded, checkpoint_sha256: str | None) -> _Loaded:
        """The torch model as Detoxify built it; other runtimes replace `model` and `forward`."""
        return loaded

    def _require_local_files(self) -> None:
        available, why = _local_files_available(self.checkpoint, self.huggingface_config_path)
        if not available:
            raise ScorerUnavailable(why)

    def _prepare_download(self) -> None:
        available, why = detoxify_weights_available(self.model_type)
        if available:
            _go_offline()  # everything is on disk: never wait on the hub
        elif _offline_requested():
            raise ScorerUnavailable(
                f"{why}, and HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE forbid downloading them"
            )

    def _construct(self) -> Any:
        source = str(self.checkpoint or CHECKPOINT_URLS[self.model_type])
        try:
            from detoxify import Detoxify

            with _base_models_resolve_to(self.huggingface_config_path):
                return Detoxify(
                    self.model_type,
                    checkpoint=str(self.checkpoint) if self.checkpoint else None,
                    huggingface_config_path=(
                        str(self.huggingface_config_path)
                        if self.huggingface_config_path else None
                    ),
                    device=self.device,
                )
        except ImportError as exc:
            raise ScorerUnavailable(f"Detoxify is not installed: {exc}") from exc
        except OSError as exc:  # missing files, failed downloads, hub lookups
            raise ScorerUnavailable(
                f"could not load Detoxify {self.model_type} from {source}: {exc}"
            ) from exc
        except Exception as exc:
            raise ScorerError(
                f"Detoxify {self.model_type} from {source} did not load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _plan(self, text: str) -> list[tuple[int, int]]:
        loaded = self._loaded
        return plan_windows(loaded.tokenizer, text, loaded.budget, loaded.overlap)


def _check_arguments(model_type, checkpoint, batch_size, window_overlap, max_length) -> None:
    if not checkpoint and model_type not in CHECKPOINT_URLS:
        raise ValueError(f"unknown Detoxify model type {model_type!r}; known: {_known_types()}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if window_overlap < 0:
        raise ValueError(f"window_overlap must not be negative, got {window_overlap}")
    if max_length is not None and max_length < 8:
        raise ValueError(f"max_length must be at least 8 tokens, got {max_length}")


def _prepare(detox: Any, max_length: int | None, window_overlap: int) -> _Loaded:
    model, tokenizer = detox.model, detox.tokenizer
    model.eval()
    columns = tuple(
        (name, detox.class_names.index(name)) for name in BASE_LABELS if name in detox.class_names
    )
    if not columns:
        raise ScorerError(
            f"the checkpoint's classes {detox.class_names} include none of {', '.join(BASE_LABELS)}"
        )
    length = model_max_length(tokenizer, model.config, max_length)
    budget = max(1, length - tokenizer.num_special_tokens_to_add(pair=False))
    # More overlap than half a window would mostly rescore the same tokens.
    overlap = min(window_overlap, budget // 2)
    forward = _torch_forward(model, tokenizer, [column for _, column in columns])
    return _Loaded(model, forward, tokenizer, columns, length, budget, overlap)


def model_max_length(tokenizer: Any, config: Any, override: int | None = None) -> int:
    """Tokens one window may hold, special tokens included."""
    limits = []
    from_tokenizer = getattr(tokenizer, "model_max_length", None)
    if isinstance(from_tokenizer, int) and 0 < from_tokenizer < 100_000:  # else "no limit"
        limits.append(from_tokenizer)
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        offset = 2 if getattr(config, "model_type", "") in _OFFSET_POSITION_MODELS else 0
        limits.append(positions - offset)
    limit = min(limits, default=512)
    return limit if override is None else min(override, limit)


def _torch_forward(model: Any, tokenizer: Any, columns: list[int]) -> Forward:
    import torch

    device = next(model.parameters()).device

    def forward(features: list[dict[str, Any]]) -> list[list[float]]:
        inputs = tokenizer.pad(features, return_tensors="pt").to(device)
        with torch.inference_mode():
            logits = model(**inputs)[0]
            return torch.sigmoid(logits[:, columns].float()).cpu().tolist()

    return forward


def _run_model(loaded: _Loaded, windows: list[str], batch_size: int) -> list[list[float]]:
    encoded = loaded.tokenizer(windows, truncation=True, max_length=loaded.max_length)
    keys = list(encoded.keys())
    # Sorting by length keeps each batch's padding (wasted compute) small.
    order = sorted(range(len(windows)), key=lambda i: len(encoded["input_ids"][i]))
    rows: list[list[float]] = [[] for _ in windows]
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        features = [{key: encoded[key][i] for key in keys} for i in batch]
        for index, row in zip(batch, loaded.forward(features), strict=True):
            rows[index] = row
    return rows


def _combine(plans, rows, label_columns) -> list[ScoredText]:
    """Each label of a text is its max over the text's windows."""
    names = [name for name, _ in label_columns]
    scored, cursor = [], 0
    for spans in plans:
        window_rows = rows[cursor : cursor + len(spans)]
        cursor += len(spans)
        labels = {name: max(row[i] for row in window_rows) for i, name in enumerate(names)}
        top = None
        if len(spans) > 1:
            top = spans[max(range(len(spans)), key=lambda w: max(window_rows[w]))]
        scored.append(ScoredText(labels=labels, windows=len(spans), top_window=top))
    return scored
