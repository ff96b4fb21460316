"""Model files that load without executing code, checked against the manifest written at training.

A model directory holds one ``.skops`` file per component (the fitted scikit-learn estimators),
``scoring.npz`` (the arrays scoring needs, see ``inference.py``) and ``manifest.json``. Loading
first checks every listed file's size, then its SHA-256, against the manifest. Skops files are then
audited: the types a file would build are checked against a reviewed list (skops refuses anything
else) before any object is built. ``scoring.npz`` is read with ``allow_pickle=False``: arrays
only. Scoring reads only ``scoring.npz``, so it imports neither scikit-learn nor skops.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .errors import ModelError

__all__ = [
    "MANIFEST",
    "SCORING_ARRAYS",
    "TRUSTED_TYPES",
    "check_model_version",
    "load_arrays",
    "load_components",
    "read_manifest",
    "save_components",
    "sha256_file",
    "verify_files",
]

MANIFEST = "manifest.json"
SCORING_ARRAYS = "scoring.npz"

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


def save_components(directory: Path, components: dict, manifest: dict, arrays: dict | None = None) -> dict:
    """Write each component as ``NAME.skops``, ``arrays`` (when given) as ``scoring.npz``, and a
    manifest with every file's hash; return the manifest."""
    import skops.io as sio

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
    if arrays is not None:
        path = directory / SCORING_ARRAYS
        np.savez_compressed(path, **arrays)
        files[path.name] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    manifest = {**manifest, "files": files, "libraries": library_versions()}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


# A manifest is a few kilobytes; a larger one is not ours.
MAX_MANIFEST_BYTES = 16 * 2**20
_PIECE = 1 << 20  # model files are hashed a MiB at a time


def read_manifest(directory: Path) -> dict:
    """The manifest of a model directory, or a ModelError saying why it cannot be read."""
    directory = Path(directory)
    if not directory.exists():
        raise ModelError(f"model directory {directory}: no such directory")
    if not directory.is_dir():
        raise ModelError(f"model directory {directory}: not a directory (a model is a folder holding {MANIFEST} "
                         "and the files it lists)")
    path = directory / MANIFEST
    if path.is_symlink():  # like the files it lists, the manifest must be the folder's own
        raise ModelError(f"{path} is a symbolic link: a model's manifest must be a regular file in its own folder")
    if not path.is_file():
        raise ModelError(f"{path} is missing: not a model directory (`make train-default` writes one; "
                         "`make train` adds a candidate to the registry)")
    try:
        with _open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > MAX_MANIFEST_BYTES:
                raise ModelError(f"{path} is {size:,} bytes: not a model manifest (at most {MAX_MANIFEST_BYTES:,})")
            manifest = json.loads(fh.read(size))  # never more than the size checked above
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: arrays nested thousands deep
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    files = manifest.get("files", {}) if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not all(isinstance(meta, dict) for meta in files.values()):
        raise ModelError(f"{path} is not a model manifest: expected an object whose \"files\" maps each file name "
                         "to an object with its sha256")
    return manifest


def check_model_version(manifest: dict, directory: Path) -> str:
    """The manifest's ``model_version``, or a ModelError unless it is a non-empty line of text: it is written
    into every verdict, log line and metric, where a missing one would read "unknown" and an object would be
    printed whole."""
    version = manifest.get("model_version")
    if not isinstance(version, str) or not version.strip() or not version.isprintable():
        raise ModelError(f"{Path(directory) / MANIFEST} gives model_version {version!r}: expected the model's "
                         "version name, a non-empty line of text (training writes one)")
    return version


def verify_files(directory: Path, manifest: dict, keep: tuple[str, ...] | None = None) -> dict[str, bytes]:
    """Refuse a model directory whose listed files are missing or differ from the manifest's sizes and
    hashes; return the checked bytes of the files named in ``keep`` (every listed file when None).

    Each file is read once: what is loaded is the bytes that were hashed, so a file replaced after
    the check cannot be loaded unchecked. A listed name must be a plain file of the directory (not a
    path out of it, nor a symbolic link): the model is the files in its folder.
    """
    directory = Path(directory)
    checked = {}
    for filename, meta in sorted(manifest.get("files", {}).items()):
        if Path(filename).name != filename or filename in (".", "..") or "\\" in filename:
            raise ModelError(f"{directory / MANIFEST} lists {filename!r}: a model's files must be plain file names "
                             "in its own folder")
        size = meta.get("bytes")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise ModelError(f"{directory / MANIFEST} gives {filename} the size {size!r}: expected \"bytes\", the "
                             "file's size as a whole number")
        path = directory / filename
        if path.is_symlink():
            raise ModelError(f"{path} is a symbolic link: a model's files must be regular files in its own folder")
        if not path.exists():
            raise ModelError(f"{path} is listed in the manifest but missing")
        if not path.is_file():
            raise ModelError(f"{path} is listed in the manifest but is not a regular file")
        data = _checked_bytes(path, meta.get("sha256"), size, keep is None or filename in keep)
        if data is not None:
            checked[filename] = data
    return checked


def _checked_bytes(path: Path, sha256, size: int, keep: bool) -> bytes | None:
    """The bytes of ``path`` (None unless ``keep``) once they match the manifest's ``size`` and ``sha256``.

    The size is compared before anything is read, so a file the manifest does not describe (a huge one
    put in place) costs neither memory nor time. A file to keep is then read once, and those bytes are
    hashed and returned; one only checked is hashed in 1 MiB pieces. Either way at most one byte past
    ``size`` is read: that byte shows a file still growing.
    """
    try:
        with _open_regular(path) as fh:
            actual = os.fstat(fh.fileno()).st_size
            if actual != size:
                raise ModelError(f"{path} is {actual:,} bytes but its manifest says {size:,}: refusing a tampered "
                                 "or mismatched file")
            if keep:
                data = fh.read(size + 1)
                digest, read = hashlib.sha256(data), len(data)
            else:
                data, digest, read = None, hashlib.sha256(), 0
                while block := fh.read(min(_PIECE, size + 1 - read)):
                    digest.update(block)
                    read += len(block)
    except OSError as exc:
        raise ModelError(f"{path} cannot be read: {exc}") from exc
    if read != size:
        raise ModelError(f"{path} changed size while it was read ({read:,} bytes, its manifest says {size:,}): "
                         "refusing a file being rewritten")
    if digest.hexdigest() != sha256:
        raise ModelError(f"{path} does not match its manifest (sha256 {digest.hexdigest()[:12]}..., expected "
                         f"{str(sha256)[:12]}...): refusing a tampered or mismatched file")
    return data


def _open_regular(path: Path):
    """``path`` opened for reading, refusing (OSError) a symbolic link swapped in after it was checked."""
    return os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)), "rb")


# The most the arrays of ``scoring.npz`` may take once uncompressed: the shipped model's take 31 MB. Compressed
# zeros shrink about a thousandfold, so a file under the 25 MB a model may ship could otherwise ask for tens of GB.
MAX_ARRAY_BYTES = 512 * 2**20


def load_arrays(directory: Path, data: bytes | None = None, names=None) -> dict[str, np.ndarray]:
    """The arrays of ``scoring.npz`` (only ``names`` of them, where given; the others are not read): ``data``,
    its bytes as :func:`verify_files` checked them (read from the directory when None). Arrays that would take
    more than :data:`MAX_ARRAY_BYTES` once uncompressed are refused before any is read."""
    path = Path(directory) / SCORING_ARRAYS
    source = io.BytesIO(data) if data is not None else path
    if not zipfile.is_zipfile(source):  # np.load would try it as a pickle, and say so
        raise ModelError(f"{path} is not a readable array file: not an .npz archive")
    if data is not None:
        source.seek(0)
    try:
        with zipfile.ZipFile(source) as archive:
            wanted = [m for m in archive.infolist() if names is None or m.filename.removesuffix(".npy") in names]
            # The larger of what the archive says a member holds and what its array header says it is: NumPy
            # allocates from the header (a review wrote one 64 bytes long whose header asked for 8 TiB).
            size = sum(max(m.file_size, _declared_bytes(archive, m)) for m in wanted)
            if size > MAX_ARRAY_BYTES:
                raise ModelError(f"{path} holds {size:,} bytes of arrays once uncompressed, more than the "
                                 f"{MAX_ARRAY_BYTES:,} a model's scoring arrays may take: not written by this library")
            arrays = {}
            for member in wanted:  # as np.load reads an .npz, without opening the archive again
                with archive.open(member) as f:
                    arrays[member.filename.removesuffix(".npy")] = np.lib.format.read_array(f, allow_pickle=False)
            return arrays
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, NotImplementedError, zlib.error) as exc:
        # zlib.error: a flipped byte can break the compressed stream itself before the CRC is checked
        raise ModelError(f"{path} is not a readable array file: {exc}") from exc


def _declared_bytes(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    """How many bytes the array in ``member`` says it holds (its .npy header's shape times item size)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    with archive.open(member) as f:
        version = np.lib.format.read_magic(f)
        if version not in readers:
            raise ValueError(f"{member.filename} is in .npy format {version[0]}.{version[1]}, which no model writes")
        shape, _, dtype = readers[version](f)
    return int(np.prod(shape, dtype=object)) * dtype.itemsize


def load_components(directory: Path) -> tuple[dict, dict]:
    """Load every skops component listed in the manifest after checking hashes and types."""
    import skops.io as sio

    directory = Path(directory)
    manifest = read_manifest(directory)
    checked = verify_files(directory, manifest)
    components = {}
    for filename, data in sorted(checked.items()):
        path = directory / filename
        if path.suffix != ".skops":
            continue
        try:
            untrusted = set(sio.get_untrusted_types(data=data))
        except Exception as exc:
            raise ModelError(f"{path} is not a readable skops file: {exc}") from exc
        unknown = untrusted - TRUSTED_TYPES
        if unknown:
            raise ModelError(f"{path} contains unreviewed types {sorted(unknown)}: refusing to load")
        try:
            components[path.stem] = sio.loads(data, trusted=sorted(untrusted))
        except Exception as exc:  # whatever a damaged file raises, name the file
            raise ModelError(f"{path} is not a readable skops file: {exc}") from exc
    return components, manifest
