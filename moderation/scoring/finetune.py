"""Train the encoder's low-rank adapter (adapter.py) end to end with one linear head per label,
on the same training text and split as the heads (train_heads.py); writes adapter.safetensors.

    python -m moderation.scoring.finetune [--olid PATH] [--epochs 1]   (`make heads` runs it)

A frozen sentence embedding places "Gay couples adopting children is a good thing" beside hate
about the same group: it encodes the topic. Training the adapter on harm and its look-alikes
teaches the encoder the difference; only the adapter's numbers change (rank 8 on four linear
layers of each of the six blocks). Mean pooling, unit length x 5, masked binary cross-entropy
(a label a text says nothing about is left out), AdamW with a one-cycle schedule, 64 tokens,
two epochs. About half an hour on two cores; the evaluation sets under tests/data/ are never
read."""

from __future__ import annotations

import random
import sys

from .adapter import ADAPTER_FILE, TARGETS, targets
from .heads import profanity_logit
from .train_heads import HEAD_LABELS, WEIGHTS, data_arguments, embed, items, olid_missing, target

RANK = 8
SCALE = 2.0  # alpha / rank: the low-rank update's weight, whatever the rank
# How much a tweet's loss counts beside written harm and look-alikes: OLID is the real
# offensive language the ranking goal is measured on, the corpus the kinds OLID lacks.
OLID_WEIGHT = 1.0
LR = 5e-4  # the adapter's peak learning rate (the head's is ten times this)
LABELS = tuple(label for label in HEAD_LABELS if label != "obscene")


def _lora(linear, rank: int):
    import torch

    class LoRALinear(torch.nn.Module):
        def __init__(self, base):
            super().__init__()
            self.base = base
            self.lora_a = torch.nn.Parameter(torch.randn(rank, base.in_features) * 0.01)
            self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank))

        def forward(self, x):
            return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * SCALE

    return LoRALinear(linear)


def _install(model, rank: int, names: tuple[str, ...]) -> dict:
    """Wrap every adapted layer; returns name -> wrapper."""
    wrapped = {}
    for name, linear in targets(model, names).items():
        path = name.split(".")  # layer.N.<target...>
        parent = model.encoder.layer[int(path[1])]
        for part in path[2:-1]:
            parent = getattr(parent, part)
        wrapper = _lora(linear, rank)
        setattr(parent, path[-1], wrapper)
        wrapped[name] = wrapper
    return wrapped


def train(found, *, epochs: int, seed: int, rank: int = RANK,
          names: tuple[str, ...] = TARGETS, batch_size: int = 32, max_tokens: int = 64,
          olid_weight: float = OLID_WEIGHT, lr: float = LR, log=print) -> dict:
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    from .encoder import packaged_model_dir

    torch.manual_seed(seed)
    random.seed(seed)
    folder = packaged_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModel.from_pretrained(str(folder), local_files_only=True)
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    wrapped = _install(model, rank, names)
    head = torch.nn.Linear(model.config.hidden_size + 1, len(LABELS))
    lora_parameters = [p for w in wrapped.values() for p in (w.lora_a, w.lora_b)]
    optimiser = torch.optim.AdamW([{"params": lora_parameters, "lr": lr},
                                   {"params": head.parameters(), "lr": lr * 10}],
                                  weight_decay=0.01)
    # Weighted by repetition: corpus texts twice, examples three times, tweets once.
    order = [i for i, item in enumerate(found) for _ in range(int(WEIGHTS[item.source]))]
    targets_ = np.array([[target(item, label) for label in LABELS] for item in found],
                        dtype=np.float32)
    swearing = profanity_logit(np.array([item.profanity for item in found]))
    # The tweets' loss counts `olid_weight` times: real offensive language, not written harm.
    emphasis = np.array([olid_weight if item.source == "olid" else 1.0 for item in found],
                        dtype=np.float32)
    steps = epochs * ((len(order) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=[lr, lr * 10], total_steps=steps, pct_start=0.1)
    model.train()
    step = 0
    for epoch in range(epochs):
        random.shuffle(order)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            inputs = tokenizer([found[i].text for i in batch], truncation=True,
                               max_length=max_tokens, padding=True, return_tensors="pt")
            hidden = model(**inputs)[0]
            mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=1) * 5
            logits = head(torch.cat([pooled, torch.from_numpy(swearing[batch]).float()[:, None]],
                                    dim=1))
            wanted = torch.from_numpy(targets_[batch])
            known = (wanted >= 0).float()
            weight = known * torch.from_numpy(emphasis[batch])[:, None]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, wanted.clamp(min=0), weight=weight, reduction="sum") / known.sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            step += 1
            if step % 20 == 0 or step == steps:
                log(f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.4f}")
    return {f"{name}.{part}": getattr(w, part).detach().contiguous()
            for name, w in wrapped.items() for part in ("lora_a", "lora_b")}


def main(argv: list[str] | None = None) -> int:
    parser = data_arguments(__doc__.split("\n\n")[0], ADAPTER_FILE)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rank", type=int, default=RANK)
    parser.add_argument("--olid-weight", type=float, default=OLID_WEIGHT,
                        help=f"how much a tweet's loss counts (default {OLID_WEIGHT:g})")
    parser.add_argument("--lr", type=float, default=LR,
                        help=f"the adapter's peak learning rate (default {LR:g})")
    parser.add_argument("--targets", default=",".join(TARGETS),
                        help="the linear layers of each block to adapt, comma-separated")
    args = parser.parse_args(argv)
    if olid_missing(args.olid, "the adapter is"):
        return 2
    from safetensors.torch import save_file

    found = [item for item in items(args.olid) if item.part == "train"]
    embed(found, args.cache, adapter=None)  # only the swear-word probabilities are used here
    names = tuple(args.targets.split(","))
    tensors = train(found, epochs=args.epochs, seed=args.seed, rank=args.rank, names=names,
                    olid_weight=args.olid_weight, lr=args.lr,
                    log=lambda line: print(line, file=sys.stderr))
    save_file(tensors, str(args.output),
              metadata={"rank": str(args.rank), "alpha": str(SCALE * args.rank),
                        "targets": ",".join(names), "base": "all-MiniLM-L6-v2",
                        "epochs": str(args.epochs), "seed": str(args.seed),
                        "olid_weight": f"{args.olid_weight:g}", "lr": f"{args.lr:g}"})
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
