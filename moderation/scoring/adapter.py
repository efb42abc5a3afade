"""A low-rank adapter (LoRA) for the packaged all-MiniLM-L6-v2: a few hundred thousand numbers
that, added to the published weights, make the encoder tell intent from topic. It is trained by
`python -m moderation.scoring.finetune` and ships as adapter.safetensors (plain tensors, never
unpickled); the published weights stay verified by their sha256 and unchanged on disk.

At load time each adapted layer's weight becomes W + (alpha / rank) * B @ A."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

ADAPTER_FILE = Path(__file__).with_name("adapter.safetensors")
# The linear layers of every transformer block that the adapter changes.
TARGETS = ("attention.self.query", "attention.self.value", "intermediate.dense",
           "output.dense")


def adapter_hash(path: Path = ADAPTER_FILE) -> str | None:
    if not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def targets(model: Any, names: tuple[str, ...] = TARGETS) -> dict[str, Any]:
    """name -> nn.Linear for every adapted layer of a BertModel."""
    found = {}
    for number, layer in enumerate(model.encoder.layer):
        for target in names:
            module = layer
            for part in target.split("."):
                module = getattr(module, part)
            found[f"layer.{number}.{target}"] = module
    return found


def merge(model: Any, path: Path = ADAPTER_FILE) -> None:
    """Add the adapter's low-rank updates into `model`'s weights, in place."""
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
    scale = float(metadata["alpha"]) / float(metadata["rank"])
    names = tuple(metadata["targets"].split(",")) if metadata.get("targets") else TARGETS
    tensors = load_file(str(path))
    layers = targets(model, names)
    with torch.no_grad():
        for name, linear in layers.items():
            a, b = tensors.get(f"{name}.lora_a"), tensors.get(f"{name}.lora_b")
            if a is None or b is None:
                raise ValueError(f"{path.name} has no update for {name}")
            linear.weight += scale * (b.to(linear.weight.dtype) @ a.to(linear.weight.dtype))
