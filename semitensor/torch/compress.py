"""``compress_model``: replace the Linear/Conv2d layers of a model by factorized ones."""
from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass, field

from torch import nn

from ..formats import parse_method
from ._structure import build_structure
from .layers import IMPLEMENTATIONS, FactorizedConv2d, FactorizedLinear

__all__ = ["compress_model", "CompressionReport", "LayerReport"]


@dataclass
class LayerReport:
    """One eligible layer of :func:`compress_model`.

    Attributes
    ----------
    name : str
        Module path (``""`` for the model itself).
    type : str
        ``"Linear"`` or ``"Conv2d"`` (the original class name).
    original_params, new_params : int
        Parameters of the layer (weight and bias) before and after; equal when skipped.
    relative_error : float or None
        ``‖W − Ŵ‖_F / ‖W‖_F`` of the fitted weight; None when skipped.
    replaced : bool
    reason : str
        Why a layer was skipped (empty when replaced).
    tensorized_shape, rank, t : tuple or None
        The structure chosen for the layer (None when it was not computed).
    """

    name: str
    type: str
    original_params: int
    new_params: int
    relative_error: float | None
    replaced: bool
    reason: str = ""
    tensorized_shape: tuple | None = None
    rank: tuple | None = None
    t: tuple | None = None

    @property
    def compression(self):
        """``original_params / new_params``."""
        return self.original_params / self.new_params


@dataclass
class CompressionReport:
    """What :func:`compress_model` did.

    Attributes
    ----------
    layers : list of LayerReport
        Every ``nn.Linear``/``nn.Conv2d`` met, replaced or skipped, in module order.
    original_params, new_params : int
        Parameters of the whole model before and after (shared parameters once).
    method : str
    inplace : bool
        Whether the model passed in was modified (otherwise a deep copy was).
    """

    layers: list = field(default_factory=list)
    original_params: int = 0
    new_params: int = 0
    method: str = ""
    inplace: bool = False

    @property
    def compression(self):
        """Whole-model compression factor ``original_params / new_params``."""
        return self.original_params / self.new_params if self.new_params else float("inf")

    @property
    def replaced(self):
        """Names of the replaced layers."""
        return [r.name for r in self.layers if r.replaced]

    def to_markdown(self):
        """The report as a markdown table plus a whole-model line."""
        lines = [
            "| layer | type | params before | params after | compression | rel. weight error | status |",
            "|:--|:--|--:|--:|--:|--:|:--|",
        ]
        for r in self.layers:
            err = "" if r.relative_error is None else f"{r.relative_error:.3g}"
            status = "replaced" if r.replaced else f"skipped: {r.reason}"
            lines.append(f"| {r.name or '(model)'} | {r.type} | {r.original_params} | {r.new_params} | "
                         f"{r.compression:.3g}x | {err} | {status} |")
        lines.append("")
        lines.append(f"Whole model ({self.method}): {self.original_params} -> {self.new_params} "
                     f"parameters, compression {self.compression:.3g}x")
        return "\n".join(lines)

    __str__ = to_markdown


def _count(module):
    return sum(p.numel() for p in module.parameters())


def _excluded(name, patterns):
    for pat in patterns:
        if name == pat or fnmatch.fnmatchcase(name, pat) or (pat and name.startswith(pat + ".")):
            return True
    return False


def compress_model(model, method, rank, t=1, *, inplace=False, exclude=(), min_compression=1.0,
                   implementation="factorized", n_tensorized_modes=None, fit_kwargs=None):
    """Replace the ``nn.Linear`` and ``nn.Conv2d`` layers of a model by factorized layers.

    Each eligible layer's weight is fitted by the numpy library
    (:meth:`FactorizedLinear.from_linear` / :meth:`FactorizedConv2d.from_conv`) in the
    format ``method`` at ``rank`` and ``t``; its bias and convolution arguments are kept.

    Parameters
    ----------
    model : nn.Module
        The model (it may itself be a Linear/Conv2d layer).
    method : str
        Format of every replaced weight: any method name, long or short
        (``"semi_tensor_train"`` or ``"stt"``, …; case-insensitive).
    rank : int, sequence of int, float or "full"
        As for :class:`FactorizedLinear` and applied to every layer; a float (a parameter
        fraction, e.g. ``0.1`` for about 10× per layer) suits layers of different sizes.
    t : int or sequence of int, default 1
        Ratios, as for the layers.
    inplace : bool, default False
        Modify ``model`` itself; by default a deep copy is compressed and ``model`` is left
        untouched.
    exclude : str or iterable of str, default ()
        Module names (or ``fnmatch`` patterns, e.g. ``"classifier.*"``) to leave dense; a
        name also excludes the layers inside that module.
    min_compression : float, default 1.0
        Replace a layer only if ``params before / params after > min_compression``
        (bias included): by default only layers that shrink; ``0`` replaces every eligible
        layer (e.g. ``rank="full"`` for a lossless conversion).  Others are reported as
        skipped.
    implementation : {"factorized", "reconstructed"}, default "factorized"
        Forward path of the new layers.
    n_tensorized_modes : int, optional
        Factors per side of the automatic tensorization.
    fit_kwargs : dict, optional
        Extra arguments of the numpy fits (e.g. ``{"n_iter_max": 10}``).

    Returns
    -------
    model : nn.Module
        The compressed model (``model`` itself if ``inplace``, else a copy; a new layer if
        ``model`` was a single replaced layer).
    report : CompressionReport
        Per layer: name, type, original and new parameter counts, relative weight error
        (or why it was skipped); the whole model's parameter counts and compression
        factor.  ``print(report)`` shows a markdown table.

    Raises
    ------
    TypeError, ValueError
        Unknown ``method``/``implementation``, a bad ``exclude``/``min_compression``, or a
        ``rank``/``t`` that does not fit a layer; the message names the layer.

    Notes
    -----
    Only layers of exactly the types ``nn.Linear`` and ``nn.Conv2d`` are replaced:
    subclasses (e.g. the output projection of ``nn.MultiheadAttention``, whose weight is
    read directly by its parent) are reported as skipped.  A layer shared by several
    parents is fitted once and the same factorized layer is put at every place.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from semitensor.torch import compress_model
    >>> mlp = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10))
    >>> small, report = compress_model(mlp, "stt", rank=0.25, t=2)
    >>> [r.replaced for r in report.layers]
    [True, True]
    >>> report.new_params < report.original_params
    True
    >>> type(mlp[0]).__name__, type(small[0]).__name__     # the original is untouched
    ('Linear', 'FactorizedLinear')
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    method_name = parse_method(method).short
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    if isinstance(exclude, str):
        exclude = (exclude,)
    try:
        exclude = tuple(exclude)
    except TypeError:
        raise TypeError(f"exclude must be a string or an iterable of strings, got {exclude!r}") from None
    if not all(isinstance(p, str) for p in exclude):
        raise TypeError(f"exclude must contain module names (strings), got {exclude!r}")
    if isinstance(min_compression, bool) or not isinstance(min_compression, (int, float)) \
            or not 0 <= min_compression < float("inf"):
        raise ValueError(f"min_compression must be a number >= 0, got {min_compression!r}")

    if not inplace:
        model = copy.deepcopy(model)
    report = CompressionReport(original_params=_count(model), method=method_name, inplace=bool(inplace))
    replacements = {}
    for name, module in model.named_modules():
        if not isinstance(module, (nn.Linear, nn.Conv2d)):
            continue
        kind = "Linear" if isinstance(module, nn.Linear) else "Conv2d"
        before = _count(module)
        entry = LayerReport(name, type(module).__name__, before, before, None, False)
        report.layers.append(entry)
        if type(module) not in (nn.Linear, nn.Conv2d):
            entry.reason = f"subclass of nn.{kind} (its weight may be used directly)"
            continue
        if _excluded(name, exclude):
            entry.reason = "excluded"
            continue
        where = f"layer {name or '(model)'!r} ({kind})"
        structure = _structure_of(module, kind, method, rank, t, n_tensorized_modes, where, name)
        entry.tensorized_shape, entry.rank, entry.t = structure.shape, structure.rank, structure.t
        after = structure.n_params + (0 if module.bias is None else module.bias.numel())
        if before / after <= min_compression:
            entry.new_params = before
            entry.reason = f"would not shrink enough ({before} -> {after} parameters, min_compression={min_compression})"
            continue
        build = FactorizedLinear.from_linear if kind == "Linear" else FactorizedConv2d.from_conv
        new = build(module, method, rank, t, n_tensorized_modes=n_tensorized_modes,
                    implementation=implementation, fit_kwargs=fit_kwargs, name=where,
                    in_tensorized_features=structure.in_factors,
                    out_tensorized_features=structure.out_factors)
        new.train(module.training)
        entry.new_params = _count(new)
        entry.relative_error = new.fit_error
        entry.replaced = True
        replacements[id(module)] = new

    if id(model) in replacements:
        model = replacements[id(model)]
    else:
        for parent in model.modules():
            for child_name, child in list(parent._modules.items()):
                if child is not None and id(child) in replacements:
                    setattr(parent, child_name, replacements[id(child)])
    report.new_params = _count(model)
    return model, report


def _structure_of(module, kind, method, rank, t, n_tensorized_modes, where, name):
    try:
        if kind == "Linear":
            return build_structure(method, module.out_features, module.in_features, rank, t,
                                   n_tensorized_modes=n_tensorized_modes)
        kh, kw = module.kernel_size
        return build_structure(method, module.out_channels, module.in_channels // module.groups,
                               rank, t, kernel=kh * kw, n_tensorized_modes=n_tensorized_modes)
    except (TypeError, ValueError) as exc:
        hint = f" (or leave the layer dense: exclude=[{name!r}])" if name else ""
        raise type(exc)(f"{where}: {exc}{hint}") from None
