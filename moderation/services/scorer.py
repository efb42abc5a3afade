"""Which scorer this process uses, chosen once from config. Loading happens later, in the
worker (or the CLI), never at import time and never inside a request."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app

from moderation.scoring import BASE_LABELS, SITE_LABEL, ScorerChoice, choose_scorer

log = logging.getLogger(__name__)
EXTENSION_KEY = "moderation.scorer"


def resolve_model_files(app: Flask) -> tuple[str | None, str | None]:
    """Configured paths, else the conventional place in the instance folder when it exists:
    instance/detoxify/<model>.ckpt and instance/detoxify/<model>/ (config + tokenizer)."""
    model_type = app.config["MODERATION_DETOXIFY_MODEL"]
    folder = Path(app.instance_path) / "detoxify"
    checkpoint = app.config.get("MODERATION_DETOXIFY_CHECKPOINT")
    hf_config = app.config.get("MODERATION_DETOXIFY_HF_CONFIG")
    if not checkpoint and (folder / f"{model_type}.ckpt").is_file():
        checkpoint = str(folder / f"{model_type}.ckpt")
    if not hf_config and (folder / model_type).is_dir():
        hf_config = str(folder / model_type)
    return checkpoint, hf_config


def onnx_cache_dir(app: Flask) -> Path:
    """Where ONNX exports go when the checkpoint's own folder is read-only."""
    return Path(app.instance_path) / "onnx"


def build_choice(app: Flask, *, scorer: str | None = None, runtime: str | None = None
                 ) -> ScorerChoice:
    """The configured scorer; `scorer` and `runtime` override the settings (the export
    command asks for Detoxify on ONNX whatever the process would score with)."""
    checkpoint, hf_config = resolve_model_files(app)
    return choose_scorer(
        scorer or app.config["MODERATION_SCORER"],
        model_type=app.config["MODERATION_DETOXIFY_MODEL"],
        checkpoint=checkpoint,
        huggingface_config_path=hf_config,
        device=app.config["MODERATION_DEVICE"],
        batch_size=int(app.config["MODERATION_BATCH_SIZE"]),
        runtime=runtime or app.config["MODERATION_DETOXIFY_RUNTIME"],
        onnx_cache_dir=onnx_cache_dir(app),
        # The composite keeps its example sentences' embeddings here between starts.
        cache_dir=Path(app.instance_path) / "cache",
        encoder_precision=app.config["MODERATION_ENCODER_PRECISION"],
    )


def init_scorer(app: Flask) -> None:
    # Tests may hand in a scorer object directly (a fake for pipeline plumbing).
    given = app.config.get("MODERATION_SCORER_OBJECT")
    if given is not None:
        choice = ScorerChoice(scorer=given, reason="scorer given in the app's config")
    else:
        choice = build_choice(app)
    log.debug("scorer: %s (%s)", choice.scorer.identity.name, choice.reason)
    app.extensions[EXTENSION_KEY] = choice


def scorer_choice(app: Flask | None = None) -> ScorerChoice:
    return (app or current_app).extensions[EXTENSION_KEY]


def produced_labels(app: Flask | None = None) -> tuple[str, ...]:
    """The labels comments get now: the configured scorer's, and the site model's when an
    active one was trained on that scorer. Screens mark or hide the others."""
    from moderation.services import site_models

    scorer = scorer_choice(app).scorer
    labels = tuple(getattr(scorer, "produces", BASE_LABELS))
    model = site_models.active()
    if model is not None and model.base_scorer == scorer.identity.name:
        labels += (SITE_LABEL,)
    return labels
