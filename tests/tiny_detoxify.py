"""A tiny checkpoint in the exact format Detoxify's loader reads.

Random weights: it proves loading, batching and windowing, never a claim about toxicity.
The trained variant learns a toy rule (marked words raise marked labels) so that its outputs
have margins, as a trained model's do; still never a claim about real toxicity.
"""

from __future__ import annotations

import random
import string
from pathlib import Path

DEFAULT_CLASSES = ("toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate")

_SPECIAL = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
# Common English words so real sentences tokenize into whole words as well as ## pieces.
_WORDS = """
the be to of and a in that have i it for not on with he as you do at this but his by from
they we say her she or an will my one all would there their what so up out if about who get
which go me when make can like time no just him know take people into year your good some
could them see other than then now look only come its over think also back after use two how
our work first well way even new want because any these give day most us is are was were been
has had did does said made went going thanks thank article learned lot meeting council tuesday
pm am comment comments post read reader readers great thoughtful agree disagree point points
idiot moron stupid dumb hate hates worthless fool shut fuck fucking shit damn hell kill die
everyone nobody everybody someone anyone vote allowed should must never always very really
please sorry welcome nice love like city town park road school news story page site word words
long short text sentence window windows model test tests score scores here where why yes okay
""".split()
_PUNCTUATION = tuple(string.punctuation)


def tiny_vocab() -> list[str]:
    """Specials, whole words, single characters and ## continuation pieces, in a fixed order."""
    letters = tuple(string.ascii_lowercase + string.digits)
    vocab = [*_SPECIAL, *dict.fromkeys(_WORDS), *letters, *_PUNCTUATION]
    vocab += [f"##{c}" for c in letters]
    vocab += [f"##{w}" for w in ("s", "ed", "ing", "er", "ly", "es", "ion", "ment", "ness")]
    return list(dict.fromkeys(vocab))


def build_tiny_checkpoint(
    directory: Path,
    *,
    max_position_embeddings: int = 64,
    num_classes: int = 6,
    classes: tuple[str, ...] = DEFAULT_CLASSES,
    seed: int = 0,
    tokenizer_name: str = "BertTokenizer",
    train_steps: int = 0,
) -> tuple[Path, Path]:
    """Write (checkpoint_path, hf_config_dir) under `directory`.

    `tokenizer_name` is what the checkpoint tells Detoxify to load; "BertTokenizerLegacy" is
    transformers' pure-Python (slow) tokenizer, which has no offset mapping. With
    `train_steps`, the six default classes are trained on the toy rule of `toy_targets`.
    """
    import torch
    import transformers

    directory = Path(directory)
    hf_config_dir = directory / "hf"
    hf_config_dir.mkdir(parents=True, exist_ok=True)
    vocab_file = hf_config_dir / "vocab.txt"
    vocab_file.write_text("\n".join(tiny_vocab()) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(
        vocab=str(vocab_file), do_lower_case=True, model_max_length=max_position_embeddings
    )
    tokenizer.save_pretrained(hf_config_dir)

    config = transformers.BertConfig(
        vocab_size=len(tiny_vocab()),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=max_position_embeddings,
        num_labels=num_classes,
        # Wide random weights so different texts get visibly different scores; training
        # starts from BERT's own narrow initialisation.
        initializer_range=0.02 if train_steps else 0.5,
    )
    config.save_pretrained(hf_config_dir)
    torch.manual_seed(seed)
    model = transformers.BertForSequenceClassification(config)
    if train_steps:
        _train_on_toy_rule(model, tokenizer, train_steps, seed)

    checkpoint_path = directory / "tiny.ckpt"
    torch.save(
        _checkpoint_dict(hf_config_dir, tokenizer_name, num_classes, classes, model),
        checkpoint_path,
    )
    return checkpoint_path, hf_config_dir


def _checkpoint_dict(hf_config_dir, tokenizer_name, num_classes, classes, model) -> dict:
    return {
        "config": {
            "arch": {
                "args": {
                    "model_type": str(hf_config_dir),
                    "model_name": "BertForSequenceClassification",
                    "tokenizer_name": tokenizer_name,
                    "num_classes": num_classes,
                }
            },
            "dataset": {"args": {"classes": list(classes)}},
        },
        "state_dict": model.state_dict(),
    }


# The toy rule: (words, {class: target}) tiers. Unmarked text targets 0.01 everywhere; a text's
# target for a class is the highest its marked words give it.
TOY_TIERS: tuple[tuple[tuple[str, ...], dict[str, float]], ...] = (
    (("damn", "hell", "dumb", "shut"), {"toxic": 0.6, "obscene": 0.5}),
    (("idiot", "moron", "stupid", "worthless", "fool"), {"toxic": 0.98, "insult": 0.98}),
    (("fuck", "fucking", "shit"), {"toxic": 0.98, "obscene": 0.98}),
    (("kill", "die"), {"toxic": 0.98, "threat": 0.98, "severe_toxic": 0.8}),
    (("hate", "hates"), {"toxic": 0.98, "identity_hate": 0.95}),
)
_MARKED = {word for words, _ in TOY_TIERS for word in words}
_UNMARKED = [word for word in dict.fromkeys(_WORDS) if word not in _MARKED]


def toy_targets(words: list[str], classes: tuple[str, ...] = DEFAULT_CLASSES) -> list[float]:
    targets = dict.fromkeys(classes, 0.01)
    for marked, raises in TOY_TIERS:
        if set(words) & set(marked):
            for name, value in raises.items():
                targets[name] = max(targets[name], value)
    return [targets[name] for name in classes]


def _toy_text(rng: random.Random) -> list[str]:
    words = [rng.choice(_UNMARKED) for _ in range(rng.randint(1, 55))]
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        marked, _ = rng.choice(TOY_TIERS)
        words.insert(rng.randint(0, len(words)), rng.choice(marked))
    return words


def _train_on_toy_rule(model, tokenizer, steps: int, seed: int) -> None:
    import torch

    rng = random.Random(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    # One thread: on a model this small, threads mostly wait for each other (ten times slower
    # on a busy two-core machine), and one thread also repeats the same sums every run.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model.train()
    try:
        for _ in range(steps):
            batch = [_toy_text(rng) for _ in range(32)]
            inputs = tokenizer([" ".join(words) for words in batch], padding=True,
                               truncation=True, return_tensors="pt")
            targets = torch.tensor([toy_targets(words) for words in batch])
            logits = model(**inputs).logits
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    finally:
        torch.set_num_threads(threads)
        model.eval()
