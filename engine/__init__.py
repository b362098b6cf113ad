"""A PyTorch-like tensor and autograd engine built from scratch on NumPy.

The public names mirror ``torch``: ``engine.tensor`` behaves like ``torch.tensor``,
``engine.no_grad`` like ``torch.no_grad``, and so on.  Chapter 1's scalar engine lives in
:mod:`engine.scalar` and is imported from there (``from engine.scalar import Value``).

The package is built in layers, each importing only the ones below it (checked by
``tests/test_layers.py``; CONTRIBUTING.md has the table):

1. :mod:`engine.dtypes`, :mod:`engine.layout` (shape and stride arithmetic),
   :mod:`engine.memory` (live storage bytes);
2. :mod:`engine.tensor`: storage, shape, strides, offset;
3. the autograd core (:mod:`engine.autograd.function`, ``grad_mode``, ``inplace``): Function,
   ctx, graph nodes, version checks -- nothing about specific ops;
4. :mod:`engine.ops`: the operand iterator, the derivative table (:mod:`engine.ops.table`, each
   op's kernel and VJP formulas in one entry) and every op;
5. the backward engine, ``gradcheck``/``gradgradcheck`` and graph inspection;
6. what is built on the public API (``testing``, ``viz``, ``nn``, ``serialization`` for
   :func:`save`/:func:`load`, ``optim`` with its learning-rate schedules, ``utils`` (``data``:
   datasets and loaders), ``grading``).

The one upward import: Tensor's methods delegate to the ops (and ``backward`` to autograd),
bound at the end of :mod:`engine.tensor`.
"""

__version__ = "0.1.0"

# --- tensors (forward engine): dtypes, Tensor, creation, randomness, ops -------------------
# These imports re-export the public, torch-like names; several shadow builtins on purpose
# (engine.bool, engine.float, engine.sum, engine.max ...), as torch's do.
# ruff: noqa: F401, E402
# autograd: engine.autograd (Function, backward, grad, gradcheck) and the grad modes
from engine import amp, autograd, func, linalg, memory, nn, optim, utils
from engine.amp import autocast, get_autocast_dtype, is_autocast_enabled
from engine.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from engine.dtypes import DType as dtype
from engine.dtypes import (
    bfloat16,
    bool,
    can_cast,
    double,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)
from engine.layout import broadcast_shapes
from engine.ops.creation import (
    arange,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from engine.ops.elementwise import (
    abs,
    acos,
    acosh,
    add,
    allclose,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    bitwise_and,
    bitwise_left_shift,
    bitwise_not,
    bitwise_or,
    bitwise_right_shift,
    bitwise_xor,
    ceil,
    clamp,
    clip,
    copysign,
    cos,
    cosh,
    div,
    divide,
    eq,
    erf,
    erfc,
    erfinv,
    exp,
    expm1,
    fix,
    floor,
    floor_divide,
    fmod,
    frac,
    gcd,
    ge,
    gt,
    hypot,
    isclose,
    isfinite,
    isinf,
    isnan,
    isneginf,
    isposinf,
    lcm,
    le,
    lerp,
    log,
    log1p,
    logaddexp,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    nan_to_num,
    ne,
    neg,
    pow,
    relu,
    remainder,
    round,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    sub,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
    xlogy,
)
from engine.ops.indexing import one_hot, select
from engine.ops.join import cat, stack
from engine.ops.linalg import (
    addmm,
    bmm,
    cdist,
    cross,
    dot,
    einsum,
    ger,
    kron,
    matmul,
    mm,
    mv,
    norm,
    outer,
)
from engine.ops.reduction import (
    all,
    any,
    argmax,
    argmin,
    logsumexp,
    max,
    mean,
    min,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from engine.ops.scan import cummax, cummin, cumprod, cumsum, logcumsumexp
from engine.ops.scatter import (
    gather,
    index_add,
    index_copy,
    index_fill,
    index_put,
    index_select,
    masked_fill,
    masked_scatter,
    masked_select,
    scatter,
    scatter_add,
    take,
    take_along_dim,
)
from engine.ops.shape import (
    as_strided,
    broadcast_tensors,
    broadcast_to,
    chunk,
    diag,
    diag_embed,
    diagonal,
    flatten,
    flip,
    fliplr,
    flipud,
    meshgrid,
    moveaxis,
    movedim,
    narrow,
    permute,
    repeat_interleave,
    reshape,
    roll,
    rot90,
    split,
    squeeze,
    tensor_split,
    tile,
    trace,
    transpose,
    tril,
    triu,
    unflatten,
    unsqueeze,
)
from engine.ops.softmax import log_softmax, softmax
from engine.ops.sorting import (
    argsort,
    argwhere,
    bucketize,
    kthvalue,
    median,
    mode,
    msort,
    nonzero,
    searchsorted,
    sort,
    topk,
    unique,
)
from engine.random import (
    Generator,
    default_generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    set_rng_state,
)
from engine.serialization import load, save
from engine.tensor import Size, Tensor
