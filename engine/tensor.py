"""The Tensor: a flat storage buffer seen through a shape, strides and an offset.

Every tensor holds ``_storage``, a 1-D NumPy array shared by all views of the same data, and
three numbers that say how to read it: element ``(i, j, ...)`` lives at
``_storage[storage_offset + i * stride[0] + j * stride[1] + ...]``.  Views (``view``,
``transpose``, slicing, ``expand`` ...) build a new Tensor over the same storage with other
numbers; nothing is copied.

Ops are defined once, in :mod:`engine.ops`.  A method that is exactly an op with ``self``
first (``x.exp()`` is ``engine.exp(x)``) *is* that function, bound at the end of this module
(``_METHODS``); the few written out here reorder or fill in arguments.  This is the engine's
one documented upward import: the op modules need ``Tensor`` to exist, so they are imported
after the class, at the end of the module.  The autograd fields (``requires_grad``, ``grad``,
``grad_fn``) are plain data here; the autograd layer fills them in.
"""

from __future__ import annotations

import builtins
import functools
import itertools
import warnings
import weakref
from collections.abc import Iterator, Sequence

import numpy as np

from engine import dtypes, layout, memory
from engine.dtypes import DType


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints like ``torch.Size``."""

    def __new__(cls, sizes: Sequence[int] = ()):
        return super().__new__(cls, map(int, sizes))

    def __repr__(self) -> str:
        return f"engine.Size({list(self)})"

    __str__ = __repr__

    def __getitem__(self, key):
        item = super().__getitem__(key)
        return Size(item) if isinstance(key, slice) else item

    def numel(self) -> int:
        """Number of elements a tensor of this shape holds."""
        return layout.numel(self)


class VersionCounter:
    """Counts in-place writes to a storage; shared by a tensor and all its views so that the
    autograd layer can detect a saved tensor that was modified after it was saved."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


class InferenceMode:
    """Whether tensors created now are inference tensors (torch's ``InferenceMode`` thread-local
    flag, as a new TensorImpl reads it).  Only ``engine.inference_mode`` switches it (in
    :mod:`engine.autograd.grad_mode`); a tensor reads it once, when it is created."""

    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = False


INFERENCE_MODE = InferenceMode()


class RemovableHandle:
    """Returned by ``register_hook``: ``handle.remove()`` unregisters the hook."""

    _ids = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.id = next(RemovableHandle._ids)
        self._hooks = hooks

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


class Device:
    """The only device of this engine: the CPU (prints like ``torch.device``)."""

    type = "cpu"

    def __repr__(self) -> str:
        return "device(type='cpu')"

    def __str__(self) -> str:
        return "cpu"

    def __eq__(self, other) -> bool:
        return str(other) == "cpu"

    def __hash__(self) -> int:
        return hash("cpu")


cpu = Device()


def _is_operand(value) -> bool:
    """Whether an operator can combine ``value`` with a tensor; for anything else the operator
    returns NotImplemented so that Python tries the other operand (and ``t == None`` is False)."""
    return isinstance(value, Tensor | builtins.int | builtins.float | np.number | np.bool_)


def _operator(method):
    """Decorate a binary operator method so that it returns NotImplemented for operands a tensor
    cannot combine with (Python then tries the other operand's reflected method)."""

    @functools.wraps(method)
    def checked(self, other):
        if not _is_operand(other):
            return NotImplemented
        return method(self, other)

    return checked


class Tensor:
    """An n-dimensional array of one dtype, stored as ``storage + shape + strides + offset``.

    Create tensors with the factories (:func:`engine.tensor`, :func:`engine.zeros`, ...), not
    with this constructor, which wraps an existing storage without copying it.
    """

    # NumPy must not treat a Tensor as an array in `np_scalar * tensor`: returning
    # NotImplemented from its ufuncs makes Python call Tensor.__rmul__ instead.
    __array_ufunc__ = None

    def __init__(
        self,
        storage: np.ndarray,
        shape: Sequence[int],
        strides: Sequence[int],
        storage_offset: int = 0,
        *,
        requires_grad: bool = False,
        base: Tensor | None = None,
    ) -> None:
        if not isinstance(storage, np.ndarray) or storage.ndim != 1:
            raise TypeError(
                "Tensor(storage, shape, strides) wraps a 1-D NumPy storage buffer; "
                "to build a tensor from data use engine.tensor(data)"
            )
        self._storage = storage
        if base is None:  # a view's storage is its base's, registered already
            memory.track(storage)
        self._shape = shape if type(shape) is Size else Size(shape)
        self._strides = tuple(map(int, strides))
        self._storage_offset = int(storage_offset)
        self.dtype: DType = dtypes.from_numpy_dtype(storage.dtype)
        # A view records the tensor that owns the storage (torch's `._base`) and shares its
        # version counter; a fresh tensor starts its own.
        self._base = base
        self._version_counter = base._version_counter if base is not None else VersionCounter()
        # An inference tensor: a new storage made inside inference_mode, or a view of one.
        self._inference = base._inference if base is not None else INFERENCE_MODE.enabled
        # Autograd fields (filled in by engine.autograd): the node that made this tensor and
        # which of its outputs this is, the leaf's gradient and AccumulateGrad node.
        self._grad_fn = None
        self._output_nr = 0
        self._grad: Tensor | None = None
        self._grad_accumulator = None
        self._retains_grad = False
        self._requires_grad = False
        # For a view made while grad mode was on: the storage version its grad_fn describes.
        # When the base is modified in place later, the view's history is rebuilt on demand.
        self._view_version: int | None = None
        # Forward mode: the tangent of this tensor at the open dual level (None: no tangent).
        self._tangent: Tensor | None = None
        if requires_grad:
            self.requires_grad = requires_grad

    # ----------------------------------------------------------------- construction helpers
    @classmethod
    def _from_array(cls, array: np.ndarray, *, requires_grad: bool = False) -> Tensor:
        """A contiguous tensor owning a copy of ``array``'s values (any NumPy dtype we support)."""
        contiguous = np.array(array, copy=True, order="C")
        return cls(
            contiguous.reshape(-1),
            contiguous.shape,
            layout.contiguous_strides(contiguous.shape),
            requires_grad=requires_grad,
        )

    def _view(self, shape: Sequence[int], strides: Sequence[int], storage_offset: int) -> Tensor:
        """A new tensor over this tensor's storage (no copy), recorded as a view of its base."""
        return Tensor(
            self._storage,
            shape,
            strides,
            storage_offset,
            base=self._base if self._base is not None else self,
        )

    def _array(self) -> np.ndarray:
        """A NumPy view of exactly this tensor's elements (writes go to the shared storage)."""
        storage = self._storage
        itemsize = storage.itemsize
        byte_strides = tuple(map(itemsize.__mul__, self._strides))
        try:
            # NumPy's own constructor of a strided view over a buffer: no copy, and about a
            # fifth of the cost of np.lib.stride_tricks.as_strided.
            return np.ndarray(
                self._shape, storage.dtype, storage, self._storage_offset * itemsize, byte_strides
            )
        except (TypeError, ValueError):
            # An empty tensor may sit at an offset past the end of its storage, which the
            # constructor refuses; as_strided does not check.
            return np.lib.stride_tricks.as_strided(
                storage[self._storage_offset :], shape=self._shape, strides=byte_strides
            )

    # --------------------------------------------------------------------------- metadata
    @property
    def shape(self) -> Size:
        """The size of each dim, as an :class:`engine.Size`."""
        return self._shape

    def size(self, dim: int | None = None) -> Size | int:
        """The shape, or the size of one dim (negative dims count from the end)."""
        if dim is None:
            return self._shape
        return self._shape[layout.wrap_dim(dim, self.ndim)]

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """Elements to skip in storage to move one step along each dim (or along ``dim``)."""
        if dim is None:
            return self._strides
        return self._strides[layout.wrap_dim(dim, self.ndim)]

    def storage_offset(self) -> int:
        """Index in storage of this tensor's first element."""
        return self._storage_offset

    @property
    def ndim(self) -> int:
        """The number of dims."""
        return len(self._shape)

    def dim(self) -> int:
        """The number of dims (``ndim``)."""
        return len(self._shape)

    def numel(self) -> int:
        """The number of elements."""
        return layout.numel(self._shape)

    nelement = numel

    def element_size(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of this tensor's elements (``numel() * itemsize``; a view counts its own)."""
        return self.numel() * self.dtype.itemsize

    @property
    def device(self) -> Device:
        """Always the CPU: the engine computes with NumPy."""
        return cpu

    @property
    def is_cuda(self) -> bool:
        """Always False (see :attr:`device`)."""
        return False

    def cpu(self) -> Tensor:
        """``self``: engine tensors always live on the CPU."""
        return self

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating-point dtype."""
        return self.dtype.is_floating_point

    def is_contiguous(self) -> bool:
        """Row-major with no gaps, ignoring size-1 dims (PyTorch's definition)."""
        return layout.is_contiguous(self._shape, self._strides)

    def data_ptr(self) -> int:
        """Address of this tensor's first element (storage start + offset * itemsize)."""
        start = self._storage.__array_interface__["data"][0]
        return start + self._storage_offset * self._storage.itemsize

    def untyped_storage(self) -> np.ndarray:
        """The flat storage buffer shared by all views (a 1-D NumPy array)."""
        return self._storage

    def is_inference(self) -> bool:
        """Whether this is an inference tensor: created inside ``engine.inference_mode()`` (or a
        view of one).  Autograd may not save it for backward, and outside inference mode it
        may not be modified in place."""
        return self._inference

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's storage has seen."""
        return self._version_counter.value

    # -------------------------------------------------------------------------- autograd
    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor: set on leaves, inherited by op results."""
        if self._view_version is not None:
            self._refresh_view_history()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._grad_fn is not None:
            message = "you can only change requires_grad flags of leaf variables."
            if not value:
                message += (
                    " If you want to use a computed variable in a subgraph that doesn't require "
                    "differentiation use var_no_grad = var.detach()."
                )
            raise RuntimeError(message)
        if value and not self.dtype.is_floating_point:
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        self._requires_grad = builtins.bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (leaves only) and return ``self``."""
        self.requires_grad = requires_grad
        return self

    @property
    def grad_fn(self):
        """The backward node of the op that produced this tensor (None for leaves)."""
        if self._view_version is not None:
            self._refresh_view_history()
        return self._grad_fn

    def _refresh_view_history(self) -> None:
        if self._view_version is not None and self._view_version != self._version_counter.value:
            from engine.ops.indexing import refresh_view_history

            refresh_view_history(self)

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded op: user-created tensors, results
        computed under no_grad or from inputs that do not require grad."""
        return self.grad_fn is None

    @property
    def output_nr(self) -> int:
        """Which output of its ``grad_fn`` this tensor is (0 for single-output ops)."""
        return self._output_nr

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient of a leaf (None until a backward reaches it)."""
        if self._grad_fn is not None and not self._retains_grad:
            warnings.warn(
                "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                ".grad attribute won't be populated during autograd.backward(). If you indeed "
                "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                "on the non-leaf Tensor. If you access the non-leaf Tensor by mistake, make sure "
                "you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 "
                "for more information.",
                UserWarning,
                stacklevel=2,
            )
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError("assigned grad has data of a different type")
            if value.shape != self.shape:
                raise RuntimeError("assigned grad has data of a different size")
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        """Whether :meth:`retain_grad` was called on this non-leaf."""
        return self._retains_grad

    def retain_grad(self) -> None:
        """Ask backward to fill ``.grad`` of this non-leaf too (a no-op on leaves)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self._retains_grad:
            return
        self._grad_fn._retained[self._output_nr] = weakref.ref(self)
        self._retains_grad = True

    def register_hook(self, hook) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a hook may return a
        replacement gradient.  Hooks run in registration order; returns a handle whose
        ``remove()`` unregisters the hook."""
        from engine.autograd.function import grad_accumulator

        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node = self._grad_fn if self._grad_fn is not None else grad_accumulator(self)
        hooks = node._tensor_pre_hooks.setdefault(self._output_nr, {})
        handle = RemovableHandle(hooks)
        hooks[handle.id] = hook
        return handle

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs=None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into the ``.grad`` of every leaf (see
        :func:`engine.autograd.backward`); ``gradient`` is required unless self has one
        element."""
        from engine import autograd

        autograd.backward(
            self,
            None if gradient is None else [gradient],
            retain_graph=retain_graph,
            create_graph=create_graph,
            inputs=inputs,
        )

    def detach(self) -> Tensor:
        """A tensor sharing this one's storage and version counter, outside the graph."""
        detached = Tensor(self._storage, self._shape, self._strides, self._storage_offset)
        detached._version_counter = self._version_counter
        detached._inference = self._inference  # an alias, like a view
        return detached

    @property
    def data(self) -> Tensor:
        """The same storage outside the graph.  Unlike :meth:`detach`, in-place writes through
        ``.data`` are invisible to autograd's version check (as in torch), which is why
        ``detach()`` is the safe choice."""
        return Tensor(self._storage, self._shape, self._strides, self._storage_offset)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._storage, self._shape = value._storage, value._shape
        self._strides, self._storage_offset = value._strides, value._storage_offset
        self.dtype = value.dtype

    def detach_(self) -> Tensor:
        """Cut this tensor out of the graph in place: it becomes a leaf not requiring grad."""
        if self._base is not None and self._base.requires_grad:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    # ----------------------------------------------------------------- conversion to Python
    def numpy(self) -> np.ndarray:
        """A NumPy array sharing memory with this tensor (bfloat16 comes as ml_dtypes.bfloat16,
        which ``torch`` refuses)."""
        if self.requires_grad:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self._array()

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        array = self._array()
        return array if dtype is None else array.astype(dtype)

    def tolist(self):
        """Nested Python lists of Python numbers (a number for a 0-d tensor)."""
        return _python_values(self)

    def item(self) -> builtins.int | builtins.float | builtins.bool:
        """The single element as a Python number."""
        if self.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {self.numel()} elements cannot be converted to Scalar"
            )
        return _python_values(self.reshape(()))

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[index] for index in range(self._shape[0]))

    def __bool__(self) -> bool:
        if self.numel() == 0:
            raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
        if self.numel() > 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self.item())

    def __float__(self) -> float:
        return builtins.float(self.item())

    def __int__(self) -> int:
        return builtins.int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point or self.numel() != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __format__(self, format_spec: str) -> str:
        # f"{loss:.4f}" works on a 0-d tensor, as in torch.
        if self.ndim == 0:
            return format(self.item(), format_spec)
        return format(repr(self), format_spec)

    def __contains__(self, element) -> bool:
        return builtins.bool(reduction.any(elementwise.eq(self, element)).item())

    def __hash__(self) -> int:
        # `==` is elementwise, so hashing must be by identity (as in torch).
        return id(self)

    def __repr__(self) -> str:
        return formatting.tensor_repr(self)

    # ------------------------------------------------------------------- dtype conversion
    def to(self, *args, dtype: DType | None = None, copy: bool = False, **kwargs) -> Tensor:
        """Convert to another dtype (``to(engine.float64)``, ``to(other_tensor)``); a device
        argument must be ``'cpu'``.  Returns ``self`` when nothing changes and copy is False."""
        for argument in args:
            if isinstance(argument, DType):
                dtype = argument
            elif isinstance(argument, Tensor):
                dtype = argument.dtype
            elif str(argument) != "cpu":
                raise RuntimeError(f"engine tensors live on the CPU only, got device {argument!r}")
        return elementwise.to_dtype(self, dtype if dtype is not None else self.dtype, copy=copy)

    def type(self, dtype: DType | None = None) -> str | Tensor:
        """The type name (``"engine.float32"``) without an argument, else ``self.to(dtype)``."""
        if dtype is None:
            return f"engine.{self.dtype.name}"
        return self.to(dtype)

    def float(self) -> Tensor:
        """``self.to(engine.float32)``."""
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        """``self.to(engine.float64)``."""
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        """``self.to(engine.float16)``."""
        return self.to(dtypes.float16)

    def bfloat16(self) -> Tensor:
        """``self.to(engine.bfloat16)``."""
        return self.to(dtypes.bfloat16)

    def long(self) -> Tensor:
        """``self.to(engine.int64)``."""
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        """``self.to(engine.int32)``."""
        return self.to(dtypes.int32)

    def short(self) -> Tensor:
        """``self.to(engine.int16)``."""
        return self.to(dtypes.int16)

    def byte(self) -> Tensor:
        """``self.to(engine.uint8)``."""
        return self.to(dtypes.uint8)

    def bool(self) -> Tensor:
        """``self.to(engine.bool)``."""
        return self.to(dtypes.bool)

    # ------------------------------------------------- methods that rearrange their arguments
    # Methods that are exactly an op with ``self`` first (``x.exp()`` is ``exp(x)``) are bound
    # at the end of this module from the ops themselves; the ones here reorder or fill in
    # arguments.
    def view_as(self, other: Tensor) -> Tensor:
        """``self.view(other.shape)``."""
        return shape_ops.view(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """``self.reshape(other.shape)``."""
        return shape_ops.reshape(self, other.shape)

    def expand_as(self, other: Tensor) -> Tensor:
        """``self.expand(other.shape)``."""
        return shape_ops.expand(self, other.shape)

    def sum_to_size(self, *size) -> Tensor:
        """Sum to ``size``, which must broadcast to this tensor's shape (torch's ``sum_to``)."""
        return reduction.sum_to_shape(self, layout.shape_from_args(size))

    def new_empty_strided(self, size: Sequence[int], stride: Sequence[int]) -> Tensor:
        """An uninitialized tensor of this dtype with the given shape and strides."""
        return creation.empty_strided(size, stride, dtype=self.dtype)

    def new_zeros(self, *size) -> Tensor:
        """A tensor of zeros of this dtype with shape ``size``."""
        return creation.zeros(*size, dtype=self.dtype)

    def new_ones(self, *size) -> Tensor:
        """A tensor of ones of this dtype with shape ``size``."""
        return creation.ones(*size, dtype=self.dtype)

    def where(self, condition: Tensor, other) -> Tensor:
        """``engine.where(condition, self, other)``."""
        return elementwise.where(condition, self, other)

    def zero_(self) -> Tensor:
        """Fill with zeros in place."""
        return elementwise.copy_(self, 0)

    def __getitem__(self, index) -> Tensor:
        return indexing.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        indexing.setitem(self, index, value)

    def __pos__(self) -> Tensor:
        return self


def _python_values(tensor: Tensor):
    """Python numbers (nested lists for n-d), with bfloat16 read via float32."""
    array = tensor._array()
    if tensor.dtype is dtypes.bfloat16:
        array = array.astype(np.float32)
    return array.tolist()


# The op modules build Tensors, and Tensor methods call the op modules, so the op modules are
# imported after the class exists (their own `from engine.tensor import Tensor` then works).
from engine import random as random_ops  # noqa: E402
from engine.ops import (  # noqa: E402
    creation,
    elementwise,
    formatting,
    indexing,
    linalg,
    reduction,
    scan,
    scatter,
    sorting,
)
from engine.ops import shape as shape_ops  # noqa: E402
from engine.ops import softmax as softmax_ops  # noqa: E402
from engine.ops.autocast import autocast_op  # noqa: E402


def _reflected(function):
    """``other <op> tensor``: Python calls ``tensor.__rop__(other)``, i.e. ``op(other, tensor)``."""

    def method(self, other):
        return function(other, self)

    method.__doc__ = f"``other`` and ``self`` swapped: ``{function.__name__}(other, self)``."
    return method


# Tensor methods that ARE the ops (a plain function stored on the class becomes a method, with
# the op's own signature, docstring and annotations): the op is defined once, in engine.ops.
_METHODS = {
    # views and copies
    "view": shape_ops.view,
    "reshape": shape_ops.reshape,
    "contiguous": shape_ops.contiguous,
    "clone": shape_ops.clone,
    "transpose": shape_ops.transpose,
    "swapaxes": shape_ops.transpose,
    "t": shape_ops.t,
    "T": property(shape_ops.reverse_dims),
    "mT": property(shape_ops.matrix_transpose),
    "permute": shape_ops.permute,
    "expand": shape_ops.expand,
    "broadcast_to": shape_ops.broadcast_to,
    "squeeze": shape_ops.squeeze,
    "unsqueeze": shape_ops.unsqueeze,
    "flatten": shape_ops.flatten,
    "narrow": shape_ops.narrow,
    "unfold": shape_ops.unfold,
    "as_strided": shape_ops.as_strided,
    "flip": shape_ops.flip,
    "fliplr": shape_ops.fliplr,
    "flipud": shape_ops.flipud,
    "roll": shape_ops.roll,
    "rot90": shape_ops.rot90,
    "movedim": shape_ops.movedim,
    "moveaxis": shape_ops.movedim,
    "tril": shape_ops.tril,
    "triu": shape_ops.triu,
    "diagonal": shape_ops.diagonal,
    "diag": shape_ops.diag,
    "diag_embed": shape_ops.diag_embed,
    "trace": shape_ops.trace,
    "repeat": shape_ops.repeat,
    "tile": shape_ops.tile,
    "repeat_interleave": shape_ops.repeat_interleave,
    "unflatten": shape_ops.unflatten,
    "split": shape_ops.split,
    "chunk": shape_ops.chunk,
    "tensor_split": shape_ops.tensor_split,
    "select": indexing.select,
    "gather": scatter.gather,
    "take": scatter.take,
    "take_along_dim": scatter.take_along_dim,
    "index_select": scatter.index_select,
    "masked_select": scatter.masked_select,
    "scatter": scatter.scatter,
    "scatter_add": scatter.scatter_add,
    "scatter_reduce": scatter.scatter_reduce,
    "index_add": scatter.index_add,
    "index_copy": scatter.index_copy,
    "index_fill": scatter.index_fill,
    "index_put": scatter.index_put,
    "masked_fill": scatter.masked_fill,
    "masked_scatter": scatter.masked_scatter,
    "scatter_": scatter.scatter_,
    "scatter_add_": scatter.scatter_add_,
    "index_add_": scatter.index_add_,
    "index_copy_": scatter.index_copy_,
    "index_fill_": scatter.index_fill_,
    "index_put_": scatter.index_put_,
    "masked_fill_": scatter.masked_fill_,
    "masked_scatter_": scatter.masked_scatter_,
    # arithmetic and comparisons; the operators return NotImplemented for other operands
    "add": elementwise.add,
    "sub": elementwise.sub,
    "mul": elementwise.mul,
    "div": elementwise.div,
    "divide": elementwise.div,
    "true_divide": elementwise.true_divide,
    "floor_divide": elementwise.floor_divide,
    "remainder": elementwise.remainder,
    "fmod": elementwise.fmod,
    "copysign": elementwise.copysign,
    "atan2": elementwise.atan2,
    "arctan2": elementwise.atan2,
    "logaddexp": elementwise.logaddexp,
    "hypot": elementwise.hypot,
    "xlogy": elementwise.xlogy,
    "lerp": elementwise.lerp,
    "pow": elementwise.pow,
    "neg": elementwise.neg,
    "eq": elementwise.eq,
    "ne": elementwise.ne,
    "lt": elementwise.lt,
    "le": elementwise.le,
    "gt": elementwise.gt,
    "ge": elementwise.ge,
    "__add__": _operator(elementwise.add),
    "__radd__": _operator(_reflected(elementwise.add)),
    "__sub__": _operator(elementwise.sub),
    "__rsub__": _operator(_reflected(elementwise.sub)),
    "__mul__": _operator(elementwise.mul),
    "__rmul__": _operator(_reflected(elementwise.mul)),
    "__truediv__": _operator(elementwise.true_divide),
    # torch computes ``number / tensor`` as ``tensor.reciprocal() * number`` (torch/_tensor.py),
    # so autocast treats it as reciprocal (float32 on CUDA).
    "__rtruediv__": autocast_op("reciprocal")(_operator(_reflected(elementwise.true_divide))),
    "__floordiv__": _operator(elementwise.floor_divide),
    "__rfloordiv__": _operator(_reflected(elementwise.floor_divide)),
    "__mod__": _operator(elementwise.remainder),
    "__rmod__": _operator(_reflected(elementwise.remainder)),
    "__pow__": _operator(elementwise.pow),
    "__rpow__": _operator(_reflected(elementwise.pow)),
    "__eq__": _operator(elementwise.eq),
    "__ne__": _operator(elementwise.ne),
    "__lt__": _operator(elementwise.lt),
    "__le__": _operator(elementwise.le),
    "__gt__": _operator(elementwise.gt),
    "__ge__": _operator(elementwise.ge),
    "__neg__": elementwise.neg,
    "__abs__": elementwise.abs,
    "__invert__": elementwise.invert,
    "__and__": _operator(elementwise.bitwise_and),
    "__rand__": _operator(_reflected(elementwise.bitwise_and)),
    "__or__": _operator(elementwise.bitwise_or),
    "__ror__": _operator(_reflected(elementwise.bitwise_or)),
    "__xor__": _operator(elementwise.bitwise_xor),
    "__rxor__": _operator(_reflected(elementwise.bitwise_xor)),
    "__lshift__": _operator(elementwise.bitwise_left_shift),
    "__rlshift__": _operator(_reflected(elementwise.bitwise_left_shift)),
    "__rshift__": _operator(elementwise.bitwise_right_shift),
    "__rrshift__": _operator(_reflected(elementwise.bitwise_right_shift)),
    "bitwise_and": elementwise.bitwise_and,
    "bitwise_or": elementwise.bitwise_or,
    "bitwise_xor": elementwise.bitwise_xor,
    "bitwise_not": elementwise.bitwise_not,
    "bitwise_left_shift": elementwise.bitwise_left_shift,
    "bitwise_right_shift": elementwise.bitwise_right_shift,
    "gcd": elementwise.gcd,
    "lcm": elementwise.lcm,
    "__matmul__": linalg.matmul,
    "__rmatmul__": _reflected(linalg.matmul),
    # in place: they write into this tensor's storage (views see the change)
    "__iadd__": elementwise.add_,
    "__isub__": elementwise.sub_,
    "__imul__": elementwise.mul_,
    "__itruediv__": elementwise.div_,
    "add_": elementwise.add_,
    "sub_": elementwise.sub_,
    "mul_": elementwise.mul_,
    "div_": elementwise.div_,
    "copy_": elementwise.copy_,
    "fill_": elementwise.copy_,
    "uniform_": random_ops.uniform_,
    "normal_": random_ops.normal_,
    # unary math, selection
    "abs": elementwise.abs,
    "exp": elementwise.exp,
    "log": elementwise.log,
    "sqrt": elementwise.sqrt,
    "sin": elementwise.sin,
    "cos": elementwise.cos,
    "tanh": elementwise.tanh,
    "sigmoid": elementwise.sigmoid,
    "relu": elementwise.relu,
    "sign": elementwise.sign,
    "round": elementwise.round,
    "clamp": elementwise.clamp,
    "clip": elementwise.clamp,
    "maximum": elementwise.maximum,
    "minimum": elementwise.minimum,
    "logical_not": elementwise.logical_not,
    "logical_and": elementwise.logical_and,
    "logical_or": elementwise.logical_or,
    "logical_xor": elementwise.logical_xor,
    "isclose": elementwise.isclose,
    "allclose": elementwise.allclose,
    "erf": elementwise.erf,
    "erfc": elementwise.erfc,
    "erfinv": elementwise.erfinv,
    "log1p": elementwise.log1p,
    "expm1": elementwise.expm1,
    "tan": elementwise.tan,
    "asin": elementwise.asin,
    "acos": elementwise.acos,
    "atan": elementwise.atan,
    "arcsin": elementwise.arcsin,
    "arccos": elementwise.arccos,
    "arctan": elementwise.arctan,
    "sinh": elementwise.sinh,
    "cosh": elementwise.cosh,
    "asinh": elementwise.asinh,
    "acosh": elementwise.acosh,
    "atanh": elementwise.atanh,
    "arcsinh": elementwise.arcsinh,
    "arccosh": elementwise.arccosh,
    "arctanh": elementwise.arctanh,
    "floor": elementwise.floor,
    "ceil": elementwise.ceil,
    "trunc": elementwise.trunc,
    "fix": elementwise.fix,
    "frac": elementwise.frac,
    "isnan": elementwise.isnan,
    "isinf": elementwise.isinf,
    "isfinite": elementwise.isfinite,
    "isposinf": elementwise.isposinf,
    "isneginf": elementwise.isneginf,
    "nan_to_num": elementwise.nan_to_num,
    # reductions
    "logsumexp": reduction.logsumexp,
    "sort": sorting.sort,
    "argsort": sorting.argsort,
    "msort": sorting.msort,
    "topk": sorting.topk,
    "kthvalue": sorting.kthvalue,
    "median": sorting.median,
    "mode": sorting.mode,
    "unique": sorting.unique,
    "nonzero": sorting.nonzero,
    "argwhere": sorting.argwhere,
    "cumsum": scan.cumsum,
    "cumprod": scan.cumprod,
    "cummax": scan.cummax,
    "cummin": scan.cummin,
    "logcumsumexp": scan.logcumsumexp,
    "sum": reduction.sum,
    "mean": reduction.mean,
    "var": reduction.var,
    "std": reduction.std,
    "prod": reduction.prod,
    "max": reduction.max,
    "min": reduction.min,
    "argmax": reduction.argmax,
    "argmin": reduction.argmin,
    "all": reduction.all,
    "any": reduction.any,
    "softmax": softmax_ops.softmax,
    "log_softmax": softmax_ops.log_softmax,
    # linear algebra
    "matmul": linalg.matmul,
    "mm": linalg.mm,
    "addmm": linalg.addmm,
    "bmm": linalg.bmm,
    "dot": linalg.dot,
    "mv": linalg.mv,
    "norm": linalg.norm,
    "cross": linalg.cross,
    "outer": linalg.outer,
    "ger": linalg.outer,
    "kron": linalg.kron,
}
for _name, _method in _METHODS.items():
    setattr(Tensor, _name, _method)
