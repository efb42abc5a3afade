"""The sentence encoder on ONNX Runtime: the same weights (adapter merged), mean pooling and
normalisation inside one graph, attention fused by the ORT transformer optimizer.

Two precisions. float32 equals torch within 1e-4 and is about three times its speed on two
cores. int8 (the default) quantizes the linear layers' weights per output channel in 7 bits
(signed, reduce_range: no saturation in the u8s8 kernels of AVX2-only CPUs, see
detoxify_onnx._quantize) with activations quantized on the fly: about twice float32's speed
again, each vector within cosine 0.98 of torch's on the probes (mean about 0.997 on tweets);
per-tensor weights moved some vectors to cosine 0.76, so they are not used. Both are checked
against torch at every export; an export that fails its check is not used.

The export is cached by the weights' and adapter's hashes and the library versions, written
under a temporary name and renamed into place, so a worker that starts again loads it in well
under a second."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

RECIPE = 2  # 2: the int8 precision
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PRECISIONS = ("int8", "float32")
_TOLERANCE = 1e-4  # float32 against torch: the largest difference in any coordinate
_INT8_COSINE = 0.98  # int8 against torch: the least cosine of a probe's vector
_PROBES = ["the quick brown fox", "jumps",
           "Thanks for the update on the bridge repairs.",
           "I know where you live and I know when you leave for work.",
           "My lesbian neighbours helped us clear the flood damage last spring.",
           "over the lazy dog " * 40]


def default_cache_dir() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(cache) / "moderation" / "onnx"


def export_path(cache_dir: Path, weights_sha256: str, adapter_sha256: str | None,
                precision: str = "int8") -> Path:
    versions = []
    for package in ("onnxruntime", "onnx", "torch", "transformers"):
        try:
            versions.append(f"{package}={importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package}=none")
    key = hashlib.sha256(f"{RECIPE}|{precision}|{weights_sha256}|{adapter_sha256}|"
                         f"{'|'.join(versions)}".encode()).hexdigest()[:16]
    return cache_dir / f"minilm-{weights_sha256[:12]}-{precision}-{key}.onnx"


def session(path: Path, build_model: Callable[[], Any], tokenizer: Any, threads: int,
            precision: str = "int8") -> Any:
    """An ORT session for the cached export at `path`, exporting it first when missing."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.log_severity_level = 3
    if path.is_file():
        try:
            return onnxruntime.InferenceSession(str(path), options,
                                                providers=["CPUExecutionProvider"])
        except Exception:  # noqa: BLE001  a torn or foreign file: export it again
            path.unlink(missing_ok=True)
    from .detoxify_onnx import _quiet_onnxruntime  # the optimizer logs a line per fusion

    with _quiet_onnxruntime():
        _export(build_model(), tokenizer, path, precision)
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(session: Any, padded: dict) -> Any:
    import numpy as np

    feeds = {name: np.asarray(padded[name], dtype=np.int64) for name in INPUTS
             if name in padded}
    if "token_type_ids" not in feeds:
        feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
    return session.run(["embedding"], feeds)[0]


def _pooled(model: Any) -> Any:
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    return Pooled().eval()


def _export(model: Any, tokenizer: Any, path: Path, precision: str = "int8") -> None:
    import numpy as np
    import onnxruntime
    import torch
    from onnxruntime.transformers import optimizer

    # SDPA attention exports to a graph the optimizer cannot fuse; the eager code path can.
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation("eager")
    model.eval()
    wrapper = _pooled(model)
    sample = tokenizer(["the quick brown fox", "jumps"], padding=True, return_tensors="pt")
    probes = tokenizer(_PROBES, padding=True, truncation=True, max_length=130,
                       return_tensors="pt")
    with torch.inference_mode():
        expected = wrapper(*(probes[name] for name in INPUTS)).numpy()
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as workdir:
        raw = Path(workdir) / "raw.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(wrapper, tuple(sample[name] for name in INPUTS), str(raw),
                              input_names=list(INPUTS), output_names=["embedding"],
                              dynamic_axes={**{name: {0: "batch", 1: "sequence"}
                                               for name in INPUTS},
                                            "embedding": {0: "batch"}},
                              opset_version=17, do_constant_folding=True, dynamo=False)
        config = model.config
        optimized = optimizer.optimize_model(str(raw), model_type="bert",
                                             num_heads=config.num_attention_heads,
                                             hidden_size=config.hidden_size)
        fused = Path(workdir) / "fused.onnx"
        optimized.save_model_to_file(str(fused))
        check = onnxruntime.InferenceSession(str(fused), providers=["CPUExecutionProvider"])
        got = run(check, {name: probes[name].numpy() for name in INPUTS})
        gap = float(np.abs(got - expected).max())
        if not gap <= _TOLERANCE:
            raise RuntimeError(f"the ONNX encoder disagrees with torch by {gap:.6f}")
        if precision == "int8":
            fused = _quantized(fused, Path(workdir) / "int8.onnx", probes, expected)
        os.replace(fused, path)


def _quantized(source: Path, target: Path, probes: Any, expected: Any) -> Path:
    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The fused ops have no ONNX type inference: their outputs default to float.
    quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, reduce_range=True,
                     per_channel=True,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    check = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    got = run(check, {name: probes[name].numpy() for name in INPUTS})
    cosine = float((got * expected).sum(axis=1).min())
    if not cosine >= _INT8_COSINE:
        raise RuntimeError(f"the int8 ONNX encoder is only {cosine:.4f} (cosine) from torch")
    return target
