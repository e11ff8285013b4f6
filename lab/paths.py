"""Where cka-lab keeps its files. Everything is under cka-lab's own directories (never ~/.kube)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def state_dir() -> Path:
    """Lab state: kubeconfig, session, undo ledger. CKA_LAB_HOME overrides (tests use it)."""
    override = os.environ.get("CKA_LAB_HOME")
    path = Path(override) if override else Path(platformdirs.user_state_dir("cka-lab"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Build caches (offline kind, node image recipe stamps). CKA_LAB_CACHE overrides."""
    override = os.environ.get("CKA_LAB_CACHE")
    path = Path(override) if override else Path(platformdirs.user_cache_dir("cka-lab"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_file() -> Path:
    """User settings (node image, kind binary). CKA_LAB_CONFIG overrides."""
    override = os.environ.get("CKA_LAB_CONFIG")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("cka-lab")) / "config.toml"
