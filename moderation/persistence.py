"""Model files that load without executing code, checked against the manifest written at training.

A model directory holds one ``.skops`` file per component and ``manifest.json``. Loading first
checks each file's SHA-256 against the manifest, then audits the types the file would build
against a reviewed list (skops refuses anything else), and only then builds objects.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path

import skops.io as sio

from .errors import ModelError

__all__ = [
    "MANIFEST",
    "TRUSTED_TYPES",
    "load_components",
    "read_manifest",
    "save_components",
    "sha256_file",
]

MANIFEST = "manifest.json"

# Reviewed: the only non-default types our model files may contain. Each is a plain data holder
# or a scikit-learn estimator whose state is arrays and numbers; none runs code on load.
TRUSTED_TYPES = frozenset({
    "moderation.models.ViolationModel",
    "moderation.stance.StanceModel",
    "moderation.features.CommentFeaturizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.isotonic.IsotonicRegression",
    "numpy.float32",
    "numpy.float64",
    "numpy.int64",
    "numpy.dtype",
    "builtins.tuple",
})


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    """Versions of the libraries that wrote a model file."""
    from importlib.metadata import version

    names = ("scikit-learn", "numpy", "scipy", "skops", "py3langid")
    return {"python": platform.python_version(), **{n: version(n) for n in names}}


def save_components(directory: Path, components: dict, manifest: dict) -> dict:
    """Write each component as ``NAME.skops`` and a manifest with their hashes; return the manifest."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, obj in components.items():
        path = directory / f"{name}.skops"
        sio.dump(obj, path, compression=8)
        untrusted = set(sio.get_untrusted_types(file=path)) - TRUSTED_TYPES
        if untrusted:
            path.unlink()
            raise ModelError(f"component {name!r} holds unreviewed types {sorted(untrusted)}; "
                             "review them and add them to TRUSTED_TYPES")
        files[path.name] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    manifest = {**manifest, "files": files, "libraries": library_versions()}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def read_manifest(directory: Path) -> dict:
    """The manifest of a model directory, or a ModelError saying why it cannot be read."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ModelError(f"{path} is missing: not a model directory (train one with `make train`)")
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc


def load_components(directory: Path) -> tuple[dict, dict]:
    """Load every component listed in the manifest after checking hashes and types."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    components = {}
    for filename, meta in sorted(manifest.get("files", {}).items()):
        path = directory / filename
        if not path.is_file():
            raise ModelError(f"{path} is listed in the manifest but missing")
        actual = sha256_file(path)
        if actual != meta.get("sha256"):
            raise ModelError(f"{path} does not match its manifest (sha256 {actual[:12]}..., expected "
                             f"{str(meta.get('sha256'))[:12]}...): refusing a tampered or mismatched file")
        try:
            untrusted = set(sio.get_untrusted_types(file=path))
        except Exception as exc:
            raise ModelError(f"{path} is not a readable skops file: {exc}") from exc
        unknown = untrusted - TRUSTED_TYPES
        if unknown:
            raise ModelError(f"{path} contains unreviewed types {sorted(unknown)}: refusing to load")
        components[path.stem] = sio.load(path, trusted=sorted(untrusted))
    return components, manifest
