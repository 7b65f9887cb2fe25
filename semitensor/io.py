"""Saving and loading decomposition results as ``.npz`` files.

Layout (format version 1): ``__semitensor__`` (the format tag), ``format_version``,
``kind`` (the family: ``tucker``/``train``/``ring``), ``errors`` and the arrays named by
the format layer: ``core`` + ``factor_0 … factor_{N-1}`` (Tucker) or
``core_0 … core_{N-1}`` (train, ring).
Ratios, ranks and shape are read off the array shapes, so a file cannot hold
contradictory metadata.  Files are read with ``allow_pickle=False``.
"""
from __future__ import annotations

import os
import zipfile

import numpy as np

from .formats import FAMILIES
from .results import RESULT_CLASSES, result_class

__all__ = ["save", "load", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_TAG = "semitensor-result"


def save(result, path):
    """Write a Tucker/train/ring result to ``path`` (``.npz``, uncompressed).

    Parameters
    ----------
    result : SemiTensorTucker, SemiTensorTrain or SemiTensorRing
        The object to save.
    path : str or os.PathLike
        Destination; numpy appends ``.npz`` when the name has no such suffix.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from semitensor import tensor_train, save, load
    >>> tt = tensor_train(np.arange(24.0).reshape(2, 3, 4), rank=2)
    >>> path = os.path.join(tempfile.mkdtemp(), "tt.npz")
    >>> save(tt, path)
    >>> [G.shape for G in load(path).cores] == [G.shape for G in tt.cores]
    True
    """
    if not isinstance(result, tuple(RESULT_CLASSES.values())):
        raise TypeError(
            "result must be a SemiTensorTucker, SemiTensorTrain or SemiTensorRing, "
            f"got {type(result).__name__}"
        )
    members = {
        "__semitensor__": np.array(_TAG),
        "format_version": np.array(FORMAT_VERSION),
        "kind": np.array(result.family),
        "errors": np.asarray(result.errors, dtype=np.float64),
    }
    names = result.format.array_names(len(result.arrays))
    members.update(zip(names, result.arrays))
    np.savez(os.fspath(path), **members)


def load(path):
    """Read a result written by :func:`save` (or ``result.save``).

    Parameters
    ----------
    path : str or os.PathLike
        An ``.npz`` file.

    Returns
    -------
    SemiTensorTucker, SemiTensorTrain or SemiTensorRing

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not a semitensor result (a foreign ``.npz`` or another file),
        is truncated or corrupt, or was written by a newer format version.  Nothing
        is returned half-loaded: the object is built only after every array is read.

    Examples
    --------
    See :func:`save`.
    """
    path = os.fspath(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            contents = {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{path!r} is not a readable semitensor .npz file ({exc})") from None
    return _from_contents(contents, path)


def _from_contents(contents, path):
    if str(contents.get("__semitensor__", "")) != _TAG:
        raise ValueError(f"{path!r} is not a semitensor result file (no '__semitensor__' tag)")
    version = int(contents.get("format_version", -1))
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path!r} has format version {version}; this semitensor reads version {FORMAT_VERSION}"
        )
    kind = str(contents.get("kind", ""))
    if kind not in FAMILIES:
        raise ValueError(f"{path!r} has unknown kind {kind!r}; expected one of {tuple(FAMILIES)}")
    errors = contents.get("errors", np.zeros(0))
    family = FAMILIES[kind]
    try:
        arrays = [contents[name] for name in family.leading_arrays]
        arrays += _numbered(contents, family.numbered_prefix, path)
        return result_class(kind).from_arrays(arrays, errors=errors)
    except KeyError as exc:
        raise ValueError(f"{path!r} is corrupt: missing array {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path!r} is corrupt: {exc}") from None


def _numbered(contents, prefix, path):
    keys = sorted((k for k in contents if k.startswith(prefix)), key=lambda k: int(k[len(prefix):]))
    if [k[len(prefix):] for k in keys] != [str(i) for i in range(len(keys))] or not keys:
        raise ValueError(f"{path!r} is corrupt: arrays {prefix}0..{prefix}N-1 are missing or out of order")
    return [contents[k] for k in keys]
