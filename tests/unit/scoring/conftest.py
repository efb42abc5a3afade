from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.tiny_detoxify import build_tiny_checkpoint

REPO_ROOT = Path(__file__).resolve().parents[3]
_OFFLINE_KEYS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> tuple[Path, Path]:
    """(checkpoint, hf_config_dir) of a 2-layer BERT with a fast tokenizer."""
    return build_tiny_checkpoint(tmp_path_factory.mktemp("tiny-fast"))


@pytest.fixture(scope="session")
def tiny_slow_checkpoint(tmp_path_factory) -> tuple[Path, Path]:
    """The same weights, but the checkpoint asks for the pure-Python tokenizer (no offsets)."""
    return build_tiny_checkpoint(
        tmp_path_factory.mktemp("tiny-slow"), tokenizer_name="BertTokenizerLegacy"
    )


@pytest.fixture(autouse=True)
def restore_hub_offline_mode():
    """Loading a local checkpoint switches the process to offline mode; undo it per test."""
    saved_env = {key: os.environ.get(key) for key in _OFFLINE_KEYS}
    constants = sys.modules.get("huggingface_hub.constants")
    saved_flag = constants.HF_HUB_OFFLINE if constants is not None else None
    yield
    for key, value in saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if constants is not None:
        constants.HF_HUB_OFFLINE = saved_flag


@pytest.fixture
def empty_caches(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """Point torch hub and Hugging Face caches at empty folders; returns (torch_home, hf_home)."""
    torch_home, hf_home = tmp_path / "torch", tmp_path / "hf"
    for key in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", *_OFFLINE_KEYS):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("TORCH_HOME", str(torch_home))
    monkeypatch.setenv("HF_HOME", str(hf_home))
    # transformers also resolves a model name as a folder in the working directory.
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    return torch_home, hf_home


@pytest.fixture
def no_network(monkeypatch) -> list[tuple]:
    """Refuse every connection the way this machine's DNS does; returns the attempts made."""
    import socket

    attempts: list[tuple] = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise socket.gaierror(socket.EAI_NONAME, "network disabled by the test")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts
