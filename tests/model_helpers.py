"""Model directories for tests: the shipped model copied under another version name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from moderation.scorer import default_model_dir


def copy_version(target: Path, name: str, trained_at: str, tamper: bool = False) -> str:
    """The shipped model copied to ``target`` as version ``name`` (a stand-in for a retrained one); with
    ``tamper``, one byte of a model file flipped after the manifest took its hash."""
    shutil.copytree(default_model_dir(), target)
    manifest = json.loads((target / "manifest.json").read_text())
    manifest.update(model_version=name, trained_at=trained_at)
    (target / "manifest.json").write_text(json.dumps(manifest))
    if tamper:
        with open(target / "violation.skops", "r+b") as fh:
            fh.seek(1000)
            byte = fh.read(1)
            fh.seek(1000)
            fh.write(bytes([byte[0] ^ 0xFF]))
    return name
