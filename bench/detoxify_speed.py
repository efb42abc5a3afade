"""Detoxify speed on this CPU with the real bert-base architecture ("original") and random
weights: speed does not depend on the weights. The checkpoint is written in Detoxify's own
format and loaded through Detoxify's constructor, exactly as an offline deployment does.

Every path runs on the same comments with the same number of threads (torch's; ONNX Runtime's
intra-op threads are set to match), the ONNX int8 path (MODERATION_DETOXIFY_RUNTIME=onnx)
included; its ratios are to the naive `Detoxify.predict` calls on the same run."""

from __future__ import annotations

import collections
import os
import time
from pathlib import Path

from bench.corpus import comments_of_words, olid_rows

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]


def corpus_vocab(size: int = 20000) -> list[str]:
    """A WordPiece vocabulary from the corpus' own words so most words are one token, as with
    bert-base-uncased's real 30k vocabulary."""
    import string

    counts = collections.Counter(
        word.lower().strip(string.punctuation)
        for text, _ in olid_rows() for word in text.split()
    )
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    words = [w for w, _ in counts.most_common(size) if w and w.isascii() and w.isalnum()]
    special = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    return list(dict.fromkeys(special + chars + [f"##{c}" for c in chars] + words))


def build_bert_base(directory: Path) -> tuple[Path, Path]:
    import torch
    import transformers

    hf_dir = directory / "bert-base-random"
    hf_dir.mkdir(parents=True, exist_ok=True)
    (hf_dir / "vocab.txt").write_text("\n".join(corpus_vocab()) + "\n", encoding="utf-8")
    tokenizer = transformers.BertTokenizer(vocab=str(hf_dir / "vocab.txt"), do_lower_case=True,
                                           model_max_length=512)
    tokenizer.save_pretrained(hf_dir)
    config = transformers.BertConfig(vocab_size=len(tokenizer), num_labels=len(CLASSES))
    config.save_pretrained(hf_dir)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    checkpoint = directory / "original-random.ckpt"
    torch.save({"config": {"arch": {"args": {
        "model_type": str(hf_dir), "model_name": "BertForSequenceClassification",
        "tokenizer_name": "BertTokenizer", "num_classes": len(CLASSES)}},
        "dataset": {"args": {"classes": CLASSES}}},
        "state_dict": model.state_dict()}, checkpoint)
    return checkpoint, hf_dir


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 2)


def timed(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def run(workdir: Path, comments: int = 64) -> dict:
    os.environ["HF_HUB_OFFLINE"] = os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch

    from moderation.scoring import DetoxifyScorer

    checkpoint, hf_dir = build_bert_base(workdir)
    scorer = DetoxifyScorer("original", checkpoint=checkpoint, huggingface_config_path=hf_dir,
                            batch_size=16)
    started = time.perf_counter()
    scorer.load()
    load_seconds = time.perf_counter() - started
    from detoxify import Detoxify

    detox = Detoxify("original", checkpoint=str(checkpoint), huggingface_config_path=str(hf_dir))
    texts = comments_of_words(comments, 15, 150)
    results = {"comments": comments, "threads": torch.get_num_threads(),
               "load_seconds": round(load_seconds, 2)}

    scorer.score(texts[:4])  # warm-up
    detox.predict(texts[:4])
    started = time.perf_counter()
    detox.predict(texts)
    results["detoxify_predict_whole_list_per_s"] = rate(comments, time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, comments, 16):
        detox.predict(texts[start:start + 16])
    results["detoxify_predict_batches_of_16_per_s"] = rate(
        comments, time.perf_counter() - started)
    started = time.perf_counter()
    scorer.score(texts)
    results["ours_sorted_batches_of_16_per_s"] = rate(comments, time.perf_counter() - started)

    long_texts = comments_of_words(4, 900, 1100, seed=1)  # ~2-3 windows each
    started = time.perf_counter()
    scored = scorer.score(long_texts)
    results["long_comment_windows"] = [item.windows for item in scored]
    results["long_comments_per_s"] = rate(len(long_texts), time.perf_counter() - started)
    del scorer, detox  # two bert-base models' memory, not needed by the int8 path
    results.update(onnx_int8(checkpoint, hf_dir, texts, long_texts, results))
    return results


def onnx_int8(checkpoint: Path, hf_dir: Path, texts: list[str], long_texts: list[str],
              torch_results: dict) -> dict:
    """The same comments through the ONNX Runtime int8 export, made here on first load."""
    from moderation.scoring import DetoxifyOnnxScorer

    def scorer() -> DetoxifyOnnxScorer:
        return DetoxifyOnnxScorer("original", checkpoint=checkpoint,
                                  huggingface_config_path=hf_dir, batch_size=16)

    exporting = scorer()
    results = {"onnx_int8_first_load_with_export_seconds": round(timed(exporting.load), 1)}
    onnx = scorer()
    results["onnx_int8_load_from_cache_seconds"] = round(timed(onnx.load), 1)
    results["onnx_int8_file_mb"] = round(onnx.export_path.stat().st_size / 1e6, 1)
    onnx.score(texts[:4])  # warm-up
    per_s = rate(len(texts), timed(lambda: onnx.score(texts)))
    results["onnx_int8_sorted_batches_of_16_per_s"] = per_s
    results["onnx_int8_vs_predict_whole_list"] = round(
        per_s / torch_results["detoxify_predict_whole_list_per_s"], 2)
    results["onnx_int8_vs_predict_batches_of_16"] = round(
        per_s / torch_results["detoxify_predict_batches_of_16_per_s"], 2)
    results["onnx_int8_vs_ours_torch"] = round(
        per_s / torch_results["ours_sorted_batches_of_16_per_s"], 2)
    results["onnx_int8_long_comments_per_s"] = rate(
        len(long_texts), timed(lambda: onnx.score(long_texts)))
    return results
