"""``FactorizedLinear`` and ``FactorizedConv2d``: layers whose weight is a (semi-)tensor
Tucker, train or ring, kept as trainable cores.

The cores are ``nn.Parameter`` s with exactly the shapes of the numpy result objects
(``layer.to_factors()`` returns one); no dense weight is stored — ``layer.weight`` is
computed on access.  See ``docs/torch.md`` for the tensorization, the initialisation and
the two forward paths.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..decomposition import fit
from ..results import result_class
from . import _contract
from ._structure import build_structure, structure_from_result

__all__ = ["FactorizedLinear", "FactorizedConv2d"]

IMPLEMENTATIONS = ("factorized", "reconstructed")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _named(where, fn, *args, **kwargs):
    """Call ``fn``; re-raise its TypeError/ValueError with the layer's name in front."""
    try:
        return fn(*args, **kwargs)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{where}: {exc}") from None


def _check_implementation(implementation):
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    return implementation


def _fit(structure, X, fit_kwargs):
    """Fit ``X`` (float64) with the numpy library at the structure's rank and ratios."""
    kwargs = dict(fit_kwargs or {})
    for key in ("rank", "t"):
        if key in kwargs:
            raise TypeError(f"fit_kwargs must not contain {key!r}: pass it as the {key} argument")
    if structure.full and structure.family == "ring":
        # rank="full" closes the ring with a classical bond of 1: TR-SVD is exact, and ALS
        # sweeps at these (large) bonds would only cost time.
        kwargs.setdefault("n_iter_max", 0)
    return fit(X, structure.method, list(structure.rank), list(structure.t), **kwargs)


class _FactorizedLayer(nn.Module):
    """Shared machinery: parameters, initialisation, reconstruction, numpy export."""

    @classmethod
    def _assemble(cls, where, configure, structure, arrays, bias, implementation, device, dtype):
        """A layer holding given core arrays (the ``from_factors`` constructors' common tail):
        ``configure`` sets the layer-type attributes before the parameters are created."""
        layer = cls.__new__(cls)
        nn.Module.__init__(layer)
        configure(layer)
        _named(where, layer._setup, structure, bias, implementation, device, dtype)
        layer._load_arrays(arrays)
        return layer

    def _setup(self, structure, bias, implementation, device, dtype):
        factory = {"device": device, "dtype": dtype if dtype is not None else torch.get_default_dtype()}
        self.method = structure.method
        self.family = structure.family
        self.tensorized_shape = structure.shape
        self.out_tensorized_features = structure.out_factors
        self.in_tensorized_features = structure.in_factors
        self.t = structure.t
        self.rank = structure.rank
        self._n_out = structure.n_out
        self.implementation = implementation
        self.fit_error = None  # set by from_linear / from_conv
        params = [nn.Parameter(torch.empty(s, **factory)) for s in structure.array_shapes]
        if self.family == "tucker":
            self.core = params[0]
            self.factors = nn.ParameterList(params[1:])
        else:
            self.cores = nn.ParameterList(params)
        if bias is True:
            self.bias = nn.Parameter(torch.zeros(self._n_rows, **factory))
        elif bias is None or bias is False:
            self.register_parameter("bias", None)
        else:
            values = torch.as_tensor(np.asarray(bias) if not torch.is_tensor(bias) else bias.detach())
            if tuple(values.shape) != (self._n_rows,):
                raise ValueError(f"bias must have shape ({self._n_rows},), got {tuple(values.shape)}")
            self.bias = nn.Parameter(values.to(**factory).clone())

    # ------------------------------------------------------------------ properties

    @property
    def implementation(self):
        """``"factorized"`` (contract the input through the cores) or ``"reconstructed"``
        (rebuild the weight, then the dense op); settable."""
        return self._implementation

    @implementation.setter
    def implementation(self, value):
        self._implementation = _check_implementation(value)

    def _arrays(self):
        return [self.core, *self.factors] if self.family == "tucker" else list(self.cores)

    @property
    def n_params(self):
        """Number of weight parameters (all cores/factors; the bias is not counted)."""
        return int(sum(p.numel() for p in self._arrays()))

    @property
    def compression_ratio(self):
        """Dense weight entries over :attr:`n_params`."""
        return math.prod(self.tensorized_shape) / self.n_params

    def _weight_tensor(self):
        """The weight as a tensor of shape :attr:`tensorized_shape` (torch ops only)."""
        if self.family == "tucker":
            return _contract.tucker_to_tensor(self.core, list(self.factors))
        return _contract.chain_to_tensor(list(self.cores), self.t)

    def _matmul(self, x):
        """``x Wᵀ`` for ``x`` of shape ``(B, fan_in)`` without forming ``W``."""
        if self.family == "tucker":
            return _contract.tucker_matmul(x, self.core, list(self.factors), self._n_out)
        return _contract.chain_matmul(x, list(self.cores), self.t, self._n_out)

    def to_factors(self):
        """The weight as the numpy result object (a copy, in the parameters' dtype).

        Returns
        -------
        SemiTensorTucker, SemiTensorTrain or SemiTensorRing
            Its ``to_tensor()`` is the weight reshaped to :attr:`tensorized_shape`.

        Examples
        --------
        >>> import torch
        >>> from semitensor.torch import FactorizedLinear
        >>> layer = FactorizedLinear(16, 8, "sttu", rank=4, t=2, dtype=torch.float64)
        >>> fit = layer.to_factors()
        >>> type(fit).__name__, fit.shape, fit.t
        ('SemiTensorTucker', (2, 2, 2, 2, 2, 4), (2, 2, 2, 2, 2, 2))
        >>> bool(torch.allclose(layer.weight, torch.from_numpy(fit.to_tensor()).reshape(8, 16)))
        True
        """
        arrays = [p.detach().cpu().numpy().copy() for p in self._arrays()]
        return result_class(self.family).from_arrays(arrays)

    # -------------------------------------------------------------- initialisation

    def reset_parameters(self, std=None):
        """Random cores whose reconstructed weight has the variance of PyTorch's default.

        Every core entry is drawn from ``N(0, σ²)`` with the same ``σ`` for all arrays.
        An entry of the weight is a sum of ``K`` products of one entry from each of the
        ``M`` arrays, with distinct (hence uncorrelated) terms, so
        ``Var W = K·σ^{2M}``.  ``K`` is the number of summed bond values compatible with
        one weight entry: ``∏ R_k/t_{k+1}`` over the summed bonds of a train/ring
        (the pass-through part of each bond is fixed by the entry) and ``∏ R_n/t_n`` for
        Tucker.  Hence ``σ² = (Var_target / K)^{1/M}``.  A product of a few random arrays
        has a noisy realised variance (small Tucker factors make it vary by 2× from draw
        to draw), so all arrays are then multiplied by one common factor (≈ 1) that makes
        the mean square of the rebuilt weight equal to the target exactly.

        Parameters
        ----------
        std : float, optional
            Target standard deviation of the weight entries.  Default
            ``1/sqrt(3·fan_in)``: the variance of ``nn.Linear``/``nn.Conv2d``'s default
            ``kaiming_uniform_(a=sqrt(5))``, i.e. ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.
            The bias (if any) is drawn from that uniform distribution, as in PyTorch.
        """
        fan_in = self._fan_in
        if std is None:
            std = 1.0 / math.sqrt(3.0 * fan_in) if fan_in > 0 else 0.0
        arrays = self._arrays()
        if self.family == "tucker":
            terms = math.prod(U.shape[1] for U in self.factors)
        else:
            terms = math.prod(G.shape[0] for G in self.cores)
        sigma = (std ** 2 / terms) ** (0.5 / len(arrays)) if std > 0 else 0.0
        with torch.no_grad():
            for p in arrays:
                p.normal_(0.0, sigma)
            # Remove the sampling noise of the product: scale every array alike so that
            # the realised mean square of W is the target exactly.
            on_meta = any(p.is_meta for p in arrays)  # deferred init: no values to measure
            mean_square = float(self._weight_tensor().pow(2).mean()) if std > 0 and not on_meta else 0.0
            if mean_square > 0:
                scale = (std ** 2 / mean_square) ** (0.5 / len(arrays))
                for p in arrays:
                    p.mul_(scale)
            if self.bias is not None:
                bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                self.bias.uniform_(-bound, bound)

    def _load_arrays(self, arrays):
        with torch.no_grad():
            for p, a in zip(self._arrays(), arrays):
                p.copy_(torch.from_numpy(np.array(a, copy=True)))  # fresh strides

    def _structure_repr(self):
        return (f"method={self.method!r}, rank={self.rank}, t={self.t}, "
                f"tensorized_shape={self.tensorized_shape}, implementation={self.implementation!r}")


class FactorizedLinear(_FactorizedLayer):
    """Linear layer ``y = x Wᵀ + b`` whose weight is a (semi-)tensor Tucker, train or ring.

    The weight ``W`` (``out_features × in_features``) is the C-order reshape of a tensor of
    shape ``(o_1, …, o_p, i_1, …, i_q)`` (:attr:`tensorized_shape`), which is stored in the
    format ``method`` as trainable cores.

    Parameters
    ----------
    in_features, out_features : int
        Sizes of the input and output features.
    method : str
        Format of the weight tensor, by any method name (case-insensitive):
        ``"tucker"``, ``"tt"``/``"tensor_train"``, ``"tr"``/``"tensor_ring"`` or their
        semi-tensor versions ``"sttu"``/``"semi_tensor_tucker"``, ``"stt"``/
        ``"semi_tensor_train"``, ``"str"``/``"semi_tensor_ring"`` with ratios ``t``.
    rank : int, sequence of int, float or "full"
        The rank language of the numpy fits (docs/conventions.md §6): train/ring bonds
        ``R_0..R_N`` (ends 1 for a train, ``R_0 = R_N`` for a ring) or Tucker ranks
        ``R_1..R_N`` exactly; one int as a bound for all (capped by the unfoldings, the
        modes, and for a ring by the weight's size); a float in ``(0, 1)`` as a parameter
        budget, a fraction of ``in_features·out_features`` (ValueError if no rank fits);
        ``"full"``: a rank at which the format represents every weight exactly.
    t : int or sequence of int, default 1
        ST ratios: an int applies to every mode (except the first of a train, whose ratio
        is 1), a sequence gives one ratio per tensor mode.  Must be 1 for the classical
        methods.  ``t`` must divide the modes and the bonds it ties (docs/conventions.md §5).
    bias : bool, default True
        Learn an additive bias.
    in_tensorized_features, out_tensorized_features : sequence of int, optional
        The factors ``i_1..i_q`` and ``o_1..o_p``; by default chosen by
        :func:`~semitensor.torch.tensorize_features` (as balanced as possible, at most
        ``n_tensorized_modes`` factors ≥ 2, divisible by the ratios where needed).
    n_tensorized_modes : int, optional
        Number of factors of each side for the automatic choice (default: the largest
        of 3, 2, 1 that the sizes and ratios allow).
    implementation : {"factorized", "reconstructed"}, default "factorized"
        Forward path (see :attr:`implementation`).  Both give the same output.
    device, dtype : optional
        Where and in which floating dtype the parameters live (default: the default
        dtype).
    name : str, optional
        Name used in error messages (``compress_model`` passes the module path).

    Attributes
    ----------
    cores : nn.ParameterList
        Train/ring cores ``G_k`` of shape ``(R_{k-1}/t_k, I_k/t_k, R_k)``.
    core, factors : nn.Parameter, nn.ParameterList
        Tucker core ``(R_1, …, R_N)`` and factors ``U_n`` ``(I_n/t_n, R_n/t_n)``.
    bias : nn.Parameter or None
    weight : Tensor
        The dense weight, computed from the cores on access (differentiable).
    rank, t, tensorized_shape : tuple of int

    Examples
    --------
    >>> import torch
    >>> from semitensor.torch import FactorizedLinear
    >>> layer = FactorizedLinear(64, 32, "stt", rank=8, t=2)
    >>> layer.tensorized_shape, layer.t
    ((2, 4, 4, 4, 4, 4), (1, 2, 2, 2, 2, 2))
    >>> [tuple(G.shape) for G in layer.cores]
    [(1, 2, 8), (4, 2, 8), (4, 2, 8), (4, 2, 8), (4, 2, 4), (2, 2, 1)]
    >>> layer(torch.randn(5, 64)).shape
    torch.Size([5, 32])
    >>> layer.weight.shape, layer.n_params
    (torch.Size([32, 64]), 244)
    """

    def __init__(self, in_features, out_features, method, rank, t=1, *, bias=True,
                 in_tensorized_features=None, out_tensorized_features=None,
                 n_tensorized_modes=None, implementation="factorized", device=None, dtype=None,
                 name=None):
        super().__init__()
        where = name or f"FactorizedLinear(in_features={in_features}, out_features={out_features})"
        _named(where, _check_features, in_features=in_features, out_features=out_features)
        structure = _named(
            where, build_structure, method, out_features, in_features, rank, t,
            out_tensorized_features=out_tensorized_features,
            in_tensorized_features=in_tensorized_features, n_tensorized_modes=n_tensorized_modes,
        )
        self.in_features, self.out_features = int(in_features), int(out_features)
        _named(where, self._setup, structure, bool(bias), implementation, device, dtype)
        self.reset_parameters()

    @property
    def _n_rows(self):
        return self.out_features

    @property
    def _fan_in(self):
        return self.in_features

    @property
    def weight(self):
        """Dense weight ``(out_features, in_features)`` rebuilt from the cores."""
        return self._weight_tensor().reshape(self.out_features, self.in_features)

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(
                f"expected input with last dimension in_features={self.in_features}, got shape {tuple(x.shape)}"
            )
        if self.implementation == "reconstructed":
            return F.linear(x, self.weight, self.bias)
        lead = x.shape[:-1]
        y = self._matmul(x.reshape(-1, self.in_features)).reshape(*lead, self.out_features)
        return y if self.bias is None else y + self.bias

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}, {self._structure_repr()}")

    # --------------------------------------------------------------- constructors

    @classmethod
    def from_factors(cls, result, n_out_modes=None, *, bias=None, method=None,
                     implementation="factorized", device=None, dtype=None, name=None):
        """Layer whose weight is a fitted (or hand-built) numpy result.

        Parameters
        ----------
        result : SemiTensorTucker, SemiTensorTrain or SemiTensorRing
            The tensorized weight: its first ``n_out_modes`` modes are the out factors,
            the others the in factors; ``W = result.to_tensor().reshape(out, in)``.
        n_out_modes : int, optional
            Number of out modes; default half the modes (which must then be even).
        bias : None, bool or array_like, optional
            ``None``/``False``: no bias; ``True``: a zero bias; an array of length
            ``out_features``: its values.
        method : str, optional
            Default: the classical name if every ratio is 1, else the ST name.
        implementation, device, dtype, name
            As for the constructor; ``dtype`` defaults to the default torch dtype (the
            factors are cast).

        Examples
        --------
        >>> import numpy as np, torch
        >>> from semitensor import semi_tensor_train
        >>> from semitensor.torch import FactorizedLinear
        >>> W = np.random.default_rng(0).standard_normal((16, 36))
        >>> fit = semi_tensor_train(W.reshape(4, 4, 6, 6), rank=1000, t=2)  # capped: exact
        >>> layer = FactorizedLinear.from_factors(fit, dtype=torch.float64)
        >>> (layer.out_features, layer.in_features, layer.method)
        (16, 36, 'stt')
        >>> bool(torch.allclose(layer.weight, torch.from_numpy(W)))
        True
        """
        where = name or "FactorizedLinear.from_factors"
        if n_out_modes is None:
            order = len(getattr(result, "shape", ()))
            if order % 2:
                raise ValueError(f"{where}: the result has {order} modes; give n_out_modes")
            n_out_modes = order // 2
        structure, arrays = _named(where, structure_from_result, result, n_out_modes, method=method)
        def configure(layer):
            layer.in_features = math.prod(structure.in_factors)
            layer.out_features = math.prod(structure.out_factors)

        return cls._assemble(where, configure, structure, arrays, bias, implementation, device, dtype)

    @classmethod
    def from_linear(cls, layer, method, rank, t=1, *, in_tensorized_features=None,
                    out_tensorized_features=None, n_tensorized_modes=None,
                    implementation="factorized", fit_kwargs=None, name=None):
        """Compress a pretrained ``nn.Linear`` by fitting its weight with the numpy library.

        The weight is reshaped to the tensorized shape, fitted in float64 by
        ``semi_tensor_tucker`` / ``semi_tensor_train`` / ``semi_tensor_ring`` at the
        resolved rank, and cast back to the layer's dtype and device; the bias is copied.
        With ``rank="full"`` the new layer reproduces the old one up to rounding.

        Parameters
        ----------
        layer : nn.Linear
        method, rank, t, in_tensorized_features, out_tensorized_features, n_tensorized_modes, implementation
            As for the constructor.
        fit_kwargs : dict, optional
            Extra keyword arguments of the numpy fit (``n_iter_max``, ``tol``, ``svd``,
            ``eps`` for trains, ``random_state``, …).
        name : str, optional
            Name used in error messages.

        Returns
        -------
        FactorizedLinear
            With ``fit_error`` set to the relative error ``‖W − Ŵ‖/‖W‖`` of the fit.

        Examples
        --------
        >>> import torch
        >>> from semitensor.torch import FactorizedLinear
        >>> dense = torch.nn.Linear(36, 16)
        >>> layer = FactorizedLinear.from_linear(dense, "stt", rank="full", t=2)
        >>> x = torch.randn(4, 36)
        >>> bool(torch.allclose(layer(x), dense(x), atol=1e-5))
        True
        """
        if not isinstance(layer, nn.Linear):
            raise TypeError(f"from_linear needs an nn.Linear, got {type(layer).__name__}")
        out_features, in_features = layer.weight.shape
        where = name or f"Linear(in_features={in_features}, out_features={out_features})"
        structure = _named(
            where, build_structure, method, out_features, in_features, rank, t,
            out_tensorized_features=out_tensorized_features,
            in_tensorized_features=in_tensorized_features, n_tensorized_modes=n_tensorized_modes,
        )
        W = layer.weight.detach().cpu().to(torch.float64).numpy().reshape(structure.shape)
        result = _named(where, _fit, structure, W, fit_kwargs)
        bias = None if layer.bias is None else layer.bias.detach().cpu().to(torch.float64).numpy()
        new = cls.from_factors(result, structure.n_out, bias=bias, method=structure.method,
                               implementation=implementation, device=layer.weight.device,
                               dtype=layer.weight.dtype, name=where)
        new.fit_error = float(result.relative_error(W))
        return new


def _check_features(**sizes):
    for key, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{key} must be a positive int, got {value!r}")


def _pair(x, name):
    if isinstance(x, (int, np.integer)) and not isinstance(x, bool):
        return (int(x), int(x))
    try:
        values = tuple(int(v) for v in x)
    except TypeError:
        raise TypeError(f"{name} must be an int or a pair of ints, got {x!r}") from None
    if len(values) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {x!r}")
    return values


def _conv_args(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
               padding_mode):
    """Normalised ``nn.Conv2d`` arguments, validated by torch itself (a meta-device conv)."""
    _check_features(in_channels=in_channels, out_channels=out_channels)
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {PADDING_MODES}, got {padding_mode!r}")
    ref = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                    dilation=dilation, groups=groups, bias=bias, padding_mode=padding_mode,
                    device="meta")
    args = {"kernel_size": tuple(ref.kernel_size), "stride": tuple(ref.stride),
            "padding": ref.padding if isinstance(ref.padding, str) else tuple(ref.padding),
            "dilation": tuple(ref.dilation), "groups": int(ref.groups),
            "padding_mode": ref.padding_mode}
    # F.pad amounts (last dim first), as nn.Conv2d computes them (asymmetric for "same").
    kh, kw = args["kernel_size"]
    if isinstance(args["padding"], str):
        pads = [0, 0, 0, 0]
        if args["padding"] == "same":
            for i, (d, k) in enumerate(zip(args["dilation"][::-1], (kw, kh))):
                total = d * (k - 1)
                pads[2 * i], pads[2 * i + 1] = total // 2, total - total // 2
    else:
        ph, pw = args["padding"]
        pads = [pw, pw, ph, ph]
    args["pads"] = tuple(pads)
    return args


class FactorizedConv2d(_FactorizedLayer):
    """2-d convolution whose weight is a (semi-)tensor Tucker, train or ring.

    The weight ``(out_channels, in_channels/groups, kh, kw)`` is the C-order reshape of a
    tensor of shape ``(o_1, …, o_p, i_1, …, i_q, kh·kw)``: channel factors as for
    :class:`FactorizedLinear`, plus one kernel mode.  An int ``t`` applies to the channel
    modes; the kernel mode gets ratio 1 (give a per-mode list to change that).  Every
    argument of ``nn.Conv2d`` is honoured: ``stride``, ``padding`` (ints, pairs,
    ``"same"``, ``"valid"``), ``dilation``, ``groups``, ``bias`` and ``padding_mode``
    (``"zeros"``, ``"reflect"``, ``"replicate"``, ``"circular"``); 3-d (unbatched) inputs
    are accepted as well.

    Parameters
    ----------
    in_channels, out_channels, kernel_size
        As for ``nn.Conv2d``.
    method, rank, t
        As for :class:`FactorizedLinear` (the dense parameter count for a float rank is
        ``out·in/groups·kh·kw``).
    stride, padding, dilation, groups, bias, padding_mode
        As for ``nn.Conv2d``.
    in_tensorized_features, out_tensorized_features, n_tensorized_modes
        Factors of ``in_channels/groups`` and ``out_channels`` (automatic by default).
    implementation : {"factorized", "reconstructed"}, default "factorized"
        ``"reconstructed"`` rebuilds the weight and calls ``F.conv2d``.  ``"factorized"``
        convolves the input with the in half of the cores (a small kernel with as many
        output channels as the bond at the out/in cut; Tucker: in factors, then the core
        as a kernel) and mixes the result into the output channels with the out half;
        with ``groups > 1`` the groups share the cores, and the out-side step is computed
        for every group and its diagonal blocks kept (``groups`` times the work of that
        step).
    device, dtype, name
        As for :class:`FactorizedLinear`.

    Examples
    --------
    >>> import torch
    >>> from semitensor.torch import FactorizedConv2d
    >>> conv = FactorizedConv2d(16, 32, 3, "tt", rank=8, padding="same")
    >>> conv.tensorized_shape         # (o_1, o_2, o_3, i_1, i_2, i_3, kh·kw)
    (2, 4, 4, 2, 2, 4, 9)
    >>> conv(torch.randn(2, 16, 10, 10)).shape
    torch.Size([2, 32, 10, 10])
    >>> conv.weight.shape
    torch.Size([32, 16, 3, 3])
    """

    def __init__(self, in_channels, out_channels, kernel_size, method, rank, t=1, *, stride=1,
                 padding=0, dilation=1, groups=1, bias=True, padding_mode="zeros",
                 in_tensorized_features=None, out_tensorized_features=None,
                 n_tensorized_modes=None, implementation="factorized", device=None, dtype=None,
                 name=None):
        super().__init__()
        where = name or f"FactorizedConv2d(in_channels={in_channels}, out_channels={out_channels})"
        args = _named(where, _conv_args, in_channels, out_channels, kernel_size, stride, padding,
                      dilation, groups, bias, padding_mode)
        kh, kw = args["kernel_size"]
        structure = _named(
            where, build_structure, method, out_channels, in_channels // args["groups"], rank, t,
            kernel=kh * kw, out_tensorized_features=out_tensorized_features,
            in_tensorized_features=in_tensorized_features, n_tensorized_modes=n_tensorized_modes,
        )
        self._set_conv(in_channels, out_channels, args)
        _named(where, self._setup, structure, bool(bias), implementation, device, dtype)
        self.reset_parameters()

    def _set_conv(self, in_channels, out_channels, args):
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = args["kernel_size"]
        self.stride, self.padding, self.dilation = args["stride"], args["padding"], args["dilation"]
        self.groups, self.padding_mode = args["groups"], args["padding_mode"]
        self._pads = args["pads"]

    @property
    def _n_rows(self):
        return self.out_channels

    @property
    def _fan_in(self):
        return self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]

    @property
    def weight(self):
        """Dense weight ``(out_channels, in_channels/groups, kh, kw)`` rebuilt from the cores."""
        return self._weight_tensor().reshape(
            self.out_channels, self.in_channels // self.groups, *self.kernel_size)

    def forward(self, x):
        unbatched = x.dim() == 3
        if unbatched:
            x = x.unsqueeze(0)
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f"expected input (N, {self.in_channels}, H, W) or ({self.in_channels}, H, W), "
                f"got shape {tuple(x.shape)}"
            )
        if self.implementation == "reconstructed":
            y = self._conv_reconstructed(x)
        else:
            y = self._conv_factorized(x)
        return y.squeeze(0) if unbatched else y

    def _conv_reconstructed(self, x):
        # nn.Conv2d._conv_forward, with the weight rebuilt from the cores.
        if self.padding_mode != "zeros":
            x = F.pad(x, self._pads, mode=self.padding_mode)
            return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def _conv_factorized(self, x):
        if self.padding_mode == "zeros":
            padding = self.padding  # F.conv2d pads (ints, "same" or "valid")
        else:
            x = F.pad(x, self._pads, mode=self.padding_mode)
            padding = 0
        stride, dilation, g = self.stride, self.dilation, self.groups

        def conv(inp, kernel):
            return F.conv2d(inp, kernel, None, stride, padding, dilation)

        B, C, H, W = x.shape
        if g > 1:  # every group through the same cores: fold the groups into the batch
            x = x.reshape(B * g, C // g, H, W)
        if self.family == "tucker":
            y = _contract.tucker_conv2d(x, self.core, list(self.factors), self._n_out,
                                        self.kernel_size, conv)
        else:
            y = _contract.chain_conv2d(x, list(self.cores), self.t, self._n_out,
                                       self.kernel_size, conv)
        if g > 1:  # keep each group's own block of output channels
            Ho, Wo = y.shape[-2:]
            y = y.reshape(B, g, g, self.out_channels // g, Ho, Wo).diagonal(dim1=1, dim2=2)
            y = y.permute(0, 4, 1, 2, 3).reshape(B, self.out_channels, Ho, Wo)
        return y if self.bias is None else y + self.bias.reshape(1, -1, 1, 1)

    def extra_repr(self):
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}, padding={self.padding!r}")
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode!r}"
        return s + ", " + self._structure_repr()

    # --------------------------------------------------------------- constructors

    @classmethod
    def from_factors(cls, result, kernel_size, n_out_modes=None, *, stride=1, padding=0,
                     dilation=1, groups=1, bias=None, padding_mode="zeros", method=None,
                     implementation="factorized", device=None, dtype=None, name=None):
        """Convolution whose weight is a numpy result of shape ``(o…, i…, kh·kw)``.

        Parameters
        ----------
        result : SemiTensorTucker, SemiTensorTrain or SemiTensorRing
            The tensorized weight; the last mode is the kernel (``kh·kw``).
        kernel_size : int or pair of int
        n_out_modes : int, optional
            Number of out-channel modes; default half of the channel modes.
        stride, padding, dilation, groups, padding_mode
            As for ``nn.Conv2d``; ``in_channels = groups · ∏ in factors``.
        bias, method, implementation, device, dtype, name
            As for :meth:`FactorizedLinear.from_factors`.

        Examples
        --------
        >>> import numpy as np
        >>> from semitensor import tensor_train
        >>> from semitensor.torch import FactorizedConv2d
        >>> weight = np.random.default_rng(0).standard_normal((8, 4, 3, 3))
        >>> fit = tensor_train(weight.reshape(2, 4, 2, 2, 9), rank=4)
        >>> conv = FactorizedConv2d.from_factors(fit, 3, padding=1)
        >>> conv.in_channels, conv.out_channels, conv.rank
        (4, 8, (1, 2, 4, 4, 4, 1))
        >>> bool(np.allclose(conv.weight.detach().numpy(), fit.to_tensor().reshape(8, 4, 3, 3), atol=1e-6))
        True
        """
        where = name or "FactorizedConv2d.from_factors"
        kh, kw = _named(where, _pair, kernel_size, "kernel_size")
        if n_out_modes is None:
            channel_modes = len(getattr(result, "shape", ())) - 1
            if channel_modes % 2 or channel_modes < 2:
                raise ValueError(f"{where}: the result has {channel_modes} channel modes; give n_out_modes")
            n_out_modes = channel_modes // 2
        structure, arrays = _named(where, structure_from_result, result, n_out_modes,
                                   kernel=kh * kw, method=method)
        out_channels = math.prod(structure.out_factors)
        in_channels = math.prod(structure.in_factors) * (groups if isinstance(groups, int) else 1)
        args = _named(where, _conv_args, in_channels, out_channels, (kh, kw), stride, padding,
                      dilation, groups, bias is not None and bias is not False, padding_mode)
        return cls._assemble(where, lambda layer: layer._set_conv(in_channels, out_channels, args),
                             structure, arrays, bias, implementation, device, dtype)

    @classmethod
    def from_conv(cls, layer, method, rank, t=1, *, in_tensorized_features=None,
                  out_tensorized_features=None, n_tensorized_modes=None,
                  implementation="factorized", fit_kwargs=None, name=None):
        """Compress a pretrained ``nn.Conv2d`` (weight fitted by the numpy library).

        All convolution arguments (stride, padding, dilation, groups, padding_mode) and
        the bias are copied; the rest is as for :meth:`FactorizedLinear.from_linear`.

        Examples
        --------
        >>> import torch
        >>> from semitensor.torch import FactorizedConv2d
        >>> dense = torch.nn.Conv2d(8, 16, 3, padding=1, padding_mode="reflect")
        >>> conv = FactorizedConv2d.from_conv(dense, "sttu", rank="full", t=2)
        >>> x = torch.randn(2, 8, 6, 6)
        >>> bool(torch.allclose(conv(x), dense(x), atol=1e-5))
        True
        """
        if not isinstance(layer, nn.Conv2d):
            raise TypeError(f"from_conv needs an nn.Conv2d, got {type(layer).__name__}")
        where = name or f"Conv2d(in_channels={layer.in_channels}, out_channels={layer.out_channels})"
        kh, kw = layer.kernel_size
        structure = _named(
            where, build_structure, method, layer.out_channels, layer.in_channels // layer.groups,
            rank, t, kernel=kh * kw, out_tensorized_features=out_tensorized_features,
            in_tensorized_features=in_tensorized_features, n_tensorized_modes=n_tensorized_modes,
        )
        W = layer.weight.detach().cpu().to(torch.float64).numpy().reshape(structure.shape)
        result = _named(where, _fit, structure, W, fit_kwargs)
        bias = None if layer.bias is None else layer.bias.detach().cpu().to(torch.float64).numpy()
        new = cls.from_factors(
            result, layer.kernel_size, structure.n_out, stride=layer.stride, padding=layer.padding,
            dilation=layer.dilation, groups=layer.groups, bias=bias, padding_mode=layer.padding_mode,
            method=structure.method, implementation=implementation, device=layer.weight.device,
            dtype=layer.weight.dtype, name=where,
        )
        new.fit_error = float(result.relative_error(W))
        return new
