"""Linear algebra: matmul for 1-D, 2-D and batched operands (numpy's `@` rules), linear (a layer's
x @ w.T + b), and numpy's dot, tensordot, einsum, inner, outer, kron and linalg functions (inv, solve, det,
slogdet, cholesky, eigh, svd), for stacks of matrices too."""

from __future__ import annotations

import numpy as np

from ..engine import shape_of
from .registry import composite, defop, doctests
from .shape import reshape, sum_to, transpose


def _matmul_forward(a, b):
    sa = a.shape if a.__class__ is np.ndarray else ()
    sb = b.shape if b.__class__ is np.ndarray else ()
    if not sa or not sb:
        raise ValueError(f"matmul: both inputs need at least one axis, got shapes {sa} and {sb}; "
                         f"use * to multiply by a scalar")
    ka = sa[-1]
    kb = sb[0] if len(sb) == 1 else sb[-2]
    if ka != kb:
        raise ValueError(f"matmul: inner sizes differ: {sa} @ {sb} needs a.shape[-1] ({ka}) == "
                         f"b.shape[{0 if len(sb) == 1 else -2}] ({kb}); transpose one side (.T) or fix the sizes")
    return a @ b


def _swap_last(x):
    n = len(shape_of(x))
    return transpose(x, axes=tuple(range(n - 2)) + (n - 1, n - 2))


def _matmul_vjp(g, ans, a, b):
    sa, sb = shape_of(a), shape_of(b)
    if len(sa) == 2 and len(sb) == 2:  # the common case, and .T is the swap of the last two axes
        return g @ b.T, a.T @ g
    if len(sa) == 1 and len(sb) == 1:  # inner product: ans is 0-d
        return g * b, g * a
    # Treat 1-D operands as a row (left) or a column (right) matrix, as numpy does, then undo it.
    a2 = reshape(a, shape=(1,) + sa) if len(sa) == 1 else a
    b2 = reshape(b, shape=sb + (1,)) if len(sb) == 1 else b
    gs = shape_of(g)
    if len(sb) == 1:
        gs = gs + (1,)
    if len(sa) == 1:
        gs = gs[:-1] + (1,) + gs[-1:]
    g2 = reshape(g, shape=gs) if gs != shape_of(g) else g
    ga = g2 @ _swap_last(b2)
    gb = _swap_last(a2) @ g2
    if len(sa) == 1:
        ga = reshape(sum_to(ga, shape=(1,) + sa), shape=sa)
    if len(sb) == 1:
        gb = reshape(sum_to(gb, shape=sb + (1,)), shape=sb)
    return ga, gb  # batch axes that were broadcast are summed away by the engine


matmul = defop("matmul", _matmul_forward, _matmul_vjp,
               "a.shape[-1] must equal b.shape[-2] (or b.shape[0] for a vector b)", scalars=False, method="matmul")


def _linear_forward(x, w, b):
    if w.__class__ is not np.ndarray or b.__class__ is not np.ndarray or w.ndim != 2 or b.shape != w.shape[:1]:
        raise ValueError(f"linear: weight must have shape (out, in) and bias (out,), got {np.shape(w)} and "
                         f"{np.shape(b)}")
    z = _matmul_forward(x, w.T)
    z += b  # z is a fresh array: adding in place saves a temporary
    return z


def _linear_grad_w(g, ans, x, w, b):
    if x.ndim == 2:  # a batch of samples: sum g_n x_nᵀ over them
        return g.T @ x
    sx, sw = shape_of(x), shape_of(w)
    if len(sx) == 1:  # one sample: the outer product g xᵀ
        return reshape(g, shape=(sw[0], 1)) * reshape(x, shape=(1, sw[1]))
    return _swap_last(reshape(g, shape=(-1, sw[0]))) @ reshape(x, shape=(-1, sw[1]))  # batches of batches


linear = defop("linear", _linear_forward,
               (lambda g, ans, x, w, b: g @ w,  # rarely needed: the data batch into a layer is a constant
                _linear_grad_w,
                lambda g, ans, x, w, b: g),  # summed over the batch by the engine
               "x must end in the layer's input size: x.shape[-1] == weight.shape[1]",
               doc="x @ weight.T + bias: a fully connected layer's z = w . x + b for every unit at once. "
                   "The same as composing matmul, transpose and add, in one node.", scalars=False,
               input_names=("input", "weight", "bias"))  # PyTorch's F.linear(input, weight, bias)


# ----------------------------------------------------------------------------------------------
# numpy's linear algebra. dot, tensordot, inner, outer and kron are compositions of matmul,
# transpose, reshape and mul, so their gradients come from those rules. einsum is one primitive whose
# gradient is again an einsum. inv, solve, det, slogdet, cholesky, eigh and svd are primitives whose rules
# are written with the ops (matmul, solve, inv...), so that they can be differentiated again.
# Real matrices only: no complex numbers.

import math  # noqa: E402
import string  # noqa: E402

from ..engine import Value, data_of  # noqa: E402
from .axes import axis_tuple, one_axis  # noqa: E402
from .elementwise import mul  # noqa: E402
from .reductions import sum as _sum  # noqa: E402
from .shape import _dtype_of, broadcast_to, getitem  # noqa: E402


def _mT(x):
    """The matrices of a stack, transposed (the last two axes swapped)."""
    return _swap_last(x)


def _eye(n, like):
    return np.eye(n, dtype=_dtype_of(like))


def _square(who, a):
    """a must be a square matrix or a stack of them (numpy's linalg checks, with the op's name)."""
    s = np.shape(a)
    if len(s) < 2 or s[-1] != s[-2]:
        raise ValueError(f"{who}: needs a square matrix or a stack of them (shape (..., n, n)), got shape {s}")


@composite(scalars=False)
def tensordot(a, b, axes=2):
    """Sum the products over the given axes, as numpy's tensordot: `axes` is an int N (the last N axes of a
    with the first N of b) or a pair of axis lists. The free axes of a come first in the result, then b's.

    Transposes and reshapes make it one matrix product, so the gradient is matmul's.

    >>> import numpy as np
    >>> from tinygrad_nn import Value, tensordot
    >>> tensordot(Value(np.ones((2, 3, 4))), Value(np.ones((4, 3, 5))), axes=([1, 2], [1, 0])).data
    array([[12., 12., 12., 12., 12.],
           [12., 12., 12., 12., 12.]])
    """
    sa, sb = shape_of(a), shape_of(b)
    na, nb = len(sa), len(sb)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if n < 0 or n > na or n > nb:
            raise ValueError(f"tensordot: axes={n} needs 0 <= axes <= the number of axes of both inputs "
                             f"(shapes {sa} and {sb})")
        ax_a, ax_b = list(range(na - n, na)), list(range(n))
    else:
        try:
            ax_a, ax_b = axes
        except (TypeError, ValueError):
            raise ValueError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}") from None
        if ax_a is None or ax_b is None:  # which axis_tuple would read as every axis
            raise TypeError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}")
        ax_a, ax_b = list(axis_tuple("tensordot", ax_a, sa)), list(axis_tuple("tensordot", ax_b, sb))
        if len(ax_a) != len(ax_b):
            raise ValueError(f"tensordot: axes {axes!r} pair {len(ax_a)} axes of a with {len(ax_b)} of b")
    for i, j in zip(ax_a, ax_b):
        if sa[i] != sb[j]:
            raise ValueError(f"tensordot: summed axes differ in size: axis {i} of a (shape {sa}) has {sa[i]}, "
                             f"axis {j} of b (shape {sb}) has {sb[j]}")
    free_a = [i for i in range(na) if i not in ax_a]
    free_b = [j for j in range(nb) if j not in ax_b]
    k = math.prod(sa[i] for i in ax_a)
    order_a, order_b = free_a + ax_a, ax_b + free_b
    if order_a != list(range(na)):
        a = transpose(a, axes=tuple(order_a))
    if order_b != list(range(nb)):
        b = transpose(b, axes=tuple(order_b))
    a2 = reshape(a, shape=(math.prod(sa[i] for i in free_a), k))
    b2 = reshape(b, shape=(k, math.prod(sb[j] for j in free_b)))
    return reshape(matmul(a2, b2), shape=tuple(sa[i] for i in free_a) + tuple(sb[j] for j in free_b))


@composite(scalars=False, method="dot")
def dot(a, b):
    """numpy's dot: a product with a scalar, the inner product of vectors, the matrix product, and for N-d
    inputs the sum over the last axis of a and the second-to-last of b.

    >>> from tinygrad_nn import Value, dot
    >>> dot(Value([[1.0, 2.0], [3.0, 4.0]]), Value([1.0, 1.0])).data
    array([3., 7.])
    """
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return mul(a, b)
    k = sb[0] if len(sb) == 1 else sb[-2]
    if sa[-1] != k:
        raise ValueError(f"dot: shapes {sa} and {sb} are not aligned: a.shape[-1] ({sa[-1]}) must equal "
                         f"b.shape[{0 if len(sb) == 1 else -2}] ({k})")
    if len(sb) <= 2 or len(sa) == 1:
        return matmul(a, b)  # here matmul's broadcasting of the batch axes gives numpy's dot exactly
    return tensordot(a, b, axes=([-1], [-2]))


@composite(scalars=False, method="inner")
def inner(a, b):
    """numpy's inner: the sum of products over the last axes of a and b (a product when one is a scalar).

    >>> from tinygrad_nn import Value, inner
    >>> inner(Value([1.0, 2.0]), Value([3.0, 4.0])).data
    array(11.)
    """
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        return mul(a, b)
    if sa[-1] != sb[-1]:
        raise ValueError(f"inner: the last axes of shapes {sa} and {sb} differ in size ({sa[-1]} != {sb[-1]})")
    return tensordot(a, b, axes=([-1], [-1]))


@composite(scalars=False, method="outer")
def outer(a, b):
    """numpy's outer: every element of a (flattened) times every element of b (flattened).

    >>> from tinygrad_nn import Value, outer
    >>> outer(Value([1.0, 2.0]), Value([1.0, 10.0])).data
    array([[ 1., 10.],
           [ 2., 20.]])
    """
    return mul(reshape(a, shape=(-1, 1)), reshape(b, shape=(1, -1)))


@composite(scalars=False, method="kron")
def kron(a, b):
    """numpy's kron, the Kronecker product: blocks a[i, j] * b (the shorter shape gets leading ones).

    >>> from tinygrad_nn import Value, kron
    >>> kron(Value([1.0, 10.0]), Value([1.0, 2.0])).data
    array([ 1.,  2., 10., 20.])
    """
    sa, sb = shape_of(a), shape_of(b)
    nd = max(len(sa), len(sb))
    sa, sb = (1,) * (nd - len(sa)) + sa, (1,) * (nd - len(sb)) + sb
    a2 = reshape(a, shape=tuple(v for s in sa for v in (s, 1)))
    b2 = reshape(b, shape=tuple(v for t in sb for v in (1, t)))
    return reshape(mul(a2, b2), shape=tuple(s * t for s, t in zip(sa, sb)))


# -- einsum ----------------------------------------------------------------------------------------

_LETTERS = string.ascii_letters  # numpy's labels; in the sublist form 0-25 are a-z and 26-51 are A-Z


def _sublist_to_str(sub):
    out = []
    for s in sub:
        if s is Ellipsis:
            out.append("...")
        elif isinstance(s, (int, np.integer)) and not isinstance(s, bool) and 0 <= s < len(_LETTERS):
            out.append(_LETTERS[int(s)])
        else:
            raise ValueError(f"einsum: a subscript list holds ints in [0, 52) or Ellipsis, got {s!r}")
    return "".join(out)


def _einsum_spec(args):
    """numpy's two calling forms, einsum('ij,jk->ik', a, b) and einsum(a, [0, 1], b, [1, 2], [0, 2]), as
    (subscripts, operands)."""
    if not args:
        raise TypeError("einsum: needs subscripts and operands, e.g. einsum('ij,jk->ik', a, b)")
    if isinstance(args[0], str):
        return args[0], list(args[1:])
    ops, subs = list(args[0::2]), list(args[1::2])
    out = ops.pop() if len(args) % 2 else None  # an odd count ends in the output's subscript list
    spec = ",".join(_sublist_to_str(s) for s in subs)
    return spec + ("" if out is None else "->" + _sublist_to_str(out)), ops


class _Labels:
    """Fresh labels for an einsum: the letters the subscripts do not use, in order."""

    def __init__(self, used):
        self.free = [c for c in _LETTERS if c not in used]

    def take(self):
        if not self.free:
            raise ValueError("einsum: its gradient needs more index letters than the 52 numpy has; "
                             "use fewer distinct indices (or fewer axes under '...')")
        return self.free.pop(0)


def _einsum_labels(subscripts, shapes):
    """Spell a valid einsum out: one letter per axis of every operand and of the output.

    '...' becomes letters of its own (aligned from the right, as numpy broadcasts it); an axis of size 1
    that broadcasts against a longer one (numpy allows that for any label) gets a private letter, so that
    in the gradient it is summed over rather than confused with the long axis. Returns (input labels,
    output labels, fresh-label source); numpy's forward has validated the subscripts already.
    """
    spec = subscripts.replace(" ", "")
    lhs, rhs = spec.split("->") if "->" in spec else (spec, None)
    terms = lhs.split(",")
    labels = _Labels({c for c in spec if c.isalpha()})
    ell_nd = [len(s) - len(t.replace("...", "")) if "..." in t else 0 for t, s in zip(terms, shapes)]
    n_ell = max(ell_nd, default=0)
    ell = [labels.take() for _ in range(n_ell)]

    def spell(term, nd):
        if "..." not in term:
            return list(term)
        head, tail = term.split("...")
        return list(head) + ell[n_ell - nd:] + list(tail)

    ins = [spell(t, nd) for t, nd in zip(terms, ell_nd)]
    size = {}
    for lab, s in zip(ins, shapes):
        for c, n in zip(lab, s):
            if size.get(c, 1) == 1:
                size[c] = n
    for lab, s in zip(ins, shapes):
        for p, (c, n) in enumerate(zip(lab, s)):
            if n == 1 and size[c] != 1:
                lab[p] = labels.take()
    if rhs is None:  # numpy's implicit output: '...' then the letters used once, in alphabetical (ASCII) order
        once = sorted(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1)
        out = ell + once
    else:
        out = spell(rhs, n_ell)
    return ins, out, labels


def _einsum_forward(*operands, subscripts, optimize=False):
    return np.einsum(subscripts, *operands, optimize=optimize)


def _einsum_vjp(g, ans, *operands, subscripts, optimize=False):
    # The gradient of operand i is an einsum of g with the other operands into operand i's labels, with
    # two repairs: a label repeated in operand i (a diagonal, 'ii') cannot be repeated in an output, so each
    # repeat gets a new letter tied to the first by an identity matrix; and a label found nowhere else (an
    # axis summed away, or a private size-1 axis) is broadcast back afterwards.
    shapes = [shape_of(x) for x in operands]
    ins, out, labels = _einsum_labels(subscripts, shapes)
    opt = optimize if isinstance(optimize, (bool, str)) else True  # an explicit path fits the forward only
    grads = []
    for i, target in enumerate(ins):
        terms, args = ["".join(out)], [g]
        for j, (lab, x) in enumerate(zip(ins, operands)):
            if j != i:
                terms.append("".join(lab))
                args.append(x)
        want, seen = [], set()
        for c, n in zip(target, shapes[i]):
            if c in seen:
                c2 = labels.take()
                terms.append(c + c2)
                args.append(_eye(n, g))
                c = c2
            seen.add(c)
            want.append(c)
        present = set("".join(terms))
        kept = [c for c in want if c in present]
        r = einsum.raw(*args, subscripts=",".join(terms) + "->" + "".join(kept), optimize=opt)
        if len(kept) < len(want):
            r = reshape(r, shape=tuple(n if c in present else 1 for c, n in zip(want, shapes[i])))
            r = broadcast_to(r, shape=shapes[i])
        grads.append(r)
    return tuple(grads)


def _einsum_args(*args, optimize=False):
    """numpy's einsum, in either calling form: einsum('ij,jk->ik', a, b) or einsum(a, [0, 1], b, [1, 2]).

    Every form numpy accepts works: implicit output ('ij,jk'), '...' broadcasting, repeated indices
    (diagonals, 'ii->i', traces 'ii') and size-1 axes broadcasting. The gradient of each operand is again an
    einsum (so einsum is differentiable to any order). `optimize` is passed to np.einsum.

    >>> import numpy as np
    >>> from tinygrad_nn import Value, einsum
    >>> a = Value(np.arange(4.0).reshape(2, 2))
    >>> einsum('ii', a).data
    array(3.)
    >>> einsum('ij,j->i', a, Value([1.0, 1.0])).sum().backward(); a.grad
    array([[1., 1.],
           [1., 1.]])
    """
    subscripts, operands = _einsum_spec(args)
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string, got {type(subscripts).__name__}")
    if not operands:
        raise ValueError(f"einsum: subscripts {subscripts!r} came without operands")
    return tuple(operands), {"subscripts": subscripts, "optimize": optimize}


einsum = defop("einsum", _einsum_forward, _einsum_vjp,
               "the subscripts need one letter per axis of each operand ('...' for the rest), and equal "
               "sizes (or 1) wherever a letter repeats", prepare=_einsum_args, inputs="n", scalars=False)


# -- inverse, solve, determinants ------------------------------------------------------------------

def _linalg_call(who, fn, *args, hint):
    try:
        return fn(*args)
    except np.linalg.LinAlgError as e:
        # The shapes of the matrices only (svd's full_matrices flag is no operand).
        shapes = ", ".join(str(np.shape(a)) for a in args if isinstance(a, np.ndarray))
        raise np.linalg.LinAlgError(f"{who}: {e} (shapes {shapes}); {hint}") from None


def _inv_forward(a):
    _square("inv", a)
    return _linalg_call("inv", np.linalg.inv, a,
                        hint="a singular matrix has no inverse: use solve, or regularise (a + eps * I)")


# d(A^-1) = -A^-1 dA A^-1, so the gradient is -A^-T g A^-T, with A^-1 the output.
inv = defop("inv", _inv_forward, lambda g, ans, a: (-(_mT(ans) @ g @ _mT(ans)),),
            doc="numpy's linalg.inv: the inverse of a square matrix, or of each matrix of a stack.",
            scalars=False, method="inverse")


def _solve_forward(a, b):
    _square("solve", a)
    sb = np.shape(b)
    n = np.shape(a)[-1]
    if not sb or (sb[0] if len(sb) == 1 else sb[-2]) != n:
        raise ValueError(f"solve: b must have shape ({n},) or (..., {n}, k) for a of shape {np.shape(a)}, "
                         f"got {sb}")
    return _linalg_call("solve", np.linalg.solve, a, b, hint="the matrix a is singular: a x = b has no unique x")


def _solve_vjp(g, ans, a, b):
    # x = A^-1 b: the gradient of b is A^-T g (a solve with the transpose), and A's is -(that) xᵀ.
    if len(shape_of(b)) == 1:  # numpy 2: a 1-D b is one vector (for every matrix of a stack of a)
        gb = solve(_mT(a), reshape(g, shape=shape_of(g) + (1,)))
        ga = -(gb @ reshape(ans, shape=shape_of(ans)[:-1] + (1,) + shape_of(ans)[-1:]))
        return ga, reshape(gb, shape=shape_of(gb)[:-1])  # summed over a's stack by the engine
    gb = solve(_mT(a), g)
    return -(gb @ _mT(ans)), gb


solve = defop("solve", _solve_forward, _solve_vjp,
              doc="numpy's linalg.solve: x with a @ x = b. b is a vector (shape (n,)) or matrices (..., n, k); "
                  "a may be a stack of matrices.", scalars=False)


def _det_forward(a):
    _square("det", a)
    return np.linalg.det(a)


def _cofactor_forward(a):
    """The cofactor matrix C = adj(a)ᵀ (= det(a) a^-T when a is invertible), from the SVD a = U diag(s) Vh:
    adj(a) = det(Vh) Vhᵀ diag(prod_{j != i} s_j) det(U) Uᵀ. This holds for singular matrices too: rank n - 1
    gives the nonzero rank-one cofactor matrix, lower ranks give 0."""
    n = a.shape[-1]
    if n == 0:
        return np.zeros_like(a)
    u, s, vh = np.linalg.svd(a)
    # prod_{j != i} s_j without dividing by s_i (which may be 0): products of the s before and after i.
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    sign = np.sign(np.linalg.det(u)) * np.sign(np.linalg.det(vh))
    return (sign[..., None, None] * u * (before * after)[..., None, :]) @ vh


def _products_but_one(q):
    """prod_{k != j} q[..., k] for every j, without dividing (q may hold zeros): products before and after j."""
    ones = np.ones(q.shape[:-1] + (1,), dtype=q.dtype)
    before = np.cumprod(np.concatenate([ones, q[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, q[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return before * after


def _det_hessian_forward(a, g):
    """M with <M, E> = d²det(a)[E, g]: the gradient of <g, cofactor(a)>, from the SVD a = U diag(s) Vh, exact at
    singular matrices too. With Ẽ = Uᵀ E Vhᵀ and P_ij = prod_{k != i, j} s_k, det(U diag(s) Vh) expanded to second
    order gives d²det[E, G] = ±sum_{i != j} P_ij (Ẽ_ii G̃_jj - Ẽ_ij G̃_ji), so M̃_ii = ±sum_{j != i} P_ij G̃_jj,
    M̃_ij = ∓P_ij G̃_ji, M = U M̃ Vh (± the sign of det U det Vh)."""
    _square("det_hessian", a)
    if np.shape(g)[-2:] != np.shape(a)[-2:]:
        raise ValueError(f"det_hessian: g must have the matrices' shape {np.shape(a)[-2:]} (a stack of them "
                         f"broadcasts), got shape {np.shape(g)}")
    n = a.shape[-1]
    if n == 0:
        return np.zeros(np.broadcast_shapes(np.shape(a), np.shape(g)), dtype=np.result_type(a, g))
    u, s, vh = np.linalg.svd(a)
    eye = np.eye(n, dtype=bool)
    q = np.where(eye, 1.0, s[..., None, :])  # row i: s with s_i left out (as 1)
    p = np.where(eye, 0.0, _products_but_one(q))  # P_ij for i != j, 0 on the diagonal
    gt = np.swapaxes(u, -1, -2) @ g @ np.swapaxes(vh, -1, -2)
    mt = -p * np.swapaxes(gt, -1, -2)
    mt[..., eye] = (p @ np.diagonal(gt, axis1=-2, axis2=-1)[..., None])[..., 0]
    sign = np.sign(np.linalg.det(u)) * np.sign(np.linalg.det(vh))
    return (sign[..., None, None] * u @ mt @ vh).astype(np.result_type(a, g), copy=False)


def _det_hessian_grad_a(h, ans, a, g):
    # d/da <h, M(a, g)>, from M = <g, m> C - C gᵀ m for an invertible a (m = a^-T, C = cofactor(a)) and
    # <X, dC[E]> = <M(a, X), E>: the third derivative of det, which needs a^-1 (a LinAlgError at a singular a).
    m = _mT(inv(a))
    c = _cofactor(a)
    s = _sum(g * m, axis=(-2, -1), keepdims=True)
    hc = _sum(h * c, axis=(-2, -1), keepdims=True)
    return (-hc * (m @ _mT(g) @ m) + s * _det_hessian(a, h) - _det_hessian(a, h @ _mT(m) @ g)
            + m @ _mT(h) @ c @ _mT(g) @ m)


# <h, M(a, g)> = d²det[h, g] is symmetric in h and g: the gradient for g is M(a, h).
_det_hessian = defop("det_hessian", _det_hessian_forward,
                     (_det_hessian_grad_a, lambda h, ans, a, g: _det_hessian(a, h)),
                     doc="The second derivative of det: the gradient of <g, cofactor(a)>, also at singular a.")


_cofactor = defop("cofactor", _cofactor_forward, lambda g, ans, a: (_det_hessian(a, g),),
                  doc="adj(a)ᵀ: the gradient of det(a), also where a is singular.")


# det's gradient is the cofactor matrix adj(a)ᵀ. The textbook det(a) * inv(a)ᵀ is that matrix only for an
# invertible a: at a singular one inv fails (or, near it, multiplies a tiny det by a huge inverse), while
# the true gradient is finite and, for rank n - 1, not zero. The cofactor primitive computes adj(a)ᵀ from
# the SVD, which is right at every matrix, and so is its own rule (det's second derivative, det_hessian, from
# the SVD as well); the third derivative and beyond need an invertible a (inv raises at a singular one).
det = defop("det", _det_forward,
            lambda g, ans, a: (reshape(g, shape=shape_of(g) + (1, 1)) * _cofactor(a),),
            doc="numpy's linalg.det: the determinant of a square matrix, or of each matrix of a stack.",
            scalars=False, method="det")


def _logabsdet_forward(a):
    _square("slogdet", a)
    return np.linalg.slogdet(a)[1]


def _slogdet_args(a):
    """numpy's linalg.slogdet: (sign, log|det a|). The sign is a constant (it has no gradient: it is
    piecewise constant); log|det a| is differentiable where a is invertible.

    >>> import numpy as np
    >>> from tinygrad_nn import Value, slogdet
    >>> a = Value([[2.0, 0.0], [0.0, -3.0]])
    >>> sign, logdet = slogdet(a)
    >>> float(sign.data), round(float(logdet.data), 6)
    (-1.0, 1.791759)
    >>> logdet.backward(); np.allclose(a.grad, [[1 / 2, 0.0], [0.0, -1 / 3]])  # inv(a)ᵀ
    True
    """
    _square("slogdet", data_of(a))
    sign = np.linalg.slogdet(data_of(a))[0]
    sign = Value._leaf(sign if isinstance(sign, np.ndarray) else np.asarray(sign))
    return (a,), {}, lambda logabsdet: (sign, logabsdet)


# The op's output is log|det a|; the sign, a constant, is put beside it by _slogdet_args.
# d log|det a| = tr(a^-1 da): the gradient is a^-T. At a singular matrix log|det| is -inf and has no
# gradient; inv then raises (a LinAlgError naming inv) rather than returning infinities.
slogdet = defop("slogdet", _logabsdet_forward,
                lambda g, ans, a: (reshape(g, shape=shape_of(g) + (1, 1)) * _mT(inv(a)),),
                prepare=_slogdet_args, scalars=False, method="slogdet")


# -- factorizations --------------------------------------------------------------------------------

def _sym(a):
    """(a + aᵀ) / 2; exactly a when a is symmetric."""
    return (a + np.swapaxes(a, -1, -2)) * 0.5


def _cholesky_forward(a):
    _square("cholesky", a)
    return _linalg_call("cholesky", np.linalg.cholesky, _sym(a),
                        hint="the matrix must be symmetric positive definite")


def _cholesky_vjp(g, ans, a):
    # Iain Murray's rule (arXiv:1602.07527): with a = L Lᵀ, L^-1 dL = Φ(L^-1 da L^-T), where Φ keeps the lower
    # triangle and halves the diagonal. So the gradient is S = L^-T Φ(Lᵀ g) L^-1, made symmetric.
    n = shape_of(ans)[-1]
    phi = np.tril(np.ones((n, n), dtype=_dtype_of(g))) - 0.5 * _eye(n, g)
    p = (_mT(ans) @ g) * phi
    s = _mT(solve(_mT(ans), _mT(solve(_mT(ans), p))))  # L^-T p, then times L^-1 from the right
    return ((s + _mT(s)) * 0.5,)


cholesky = defop("cholesky", _cholesky_forward, _cholesky_vjp, "the matrix must be symmetric positive definite",
                 doc="numpy's linalg.cholesky: the lower-triangular L with L Lᵀ = a, for a symmetric positive "
                     "definite a (or a stack). As JAX does, a is read as its symmetric part (a + aᵀ) / 2 "
                     "(which is a itself for a symmetric input; numpy reads only the lower triangle), so the "
                     "gradient is symmetric, the same as PyTorch's and HIPS autograd's.",
                 scalars=False, method="cholesky")


# -- eigh and svd ----------------------------------------------------------------------------------
# These have several outputs; an op has one. Each is a primitive whose output packs the pieces into one
# last axis ([w, V] or [U, S, Vh], flattened), unpacked with getitem and reshape: one factorization,
# however many pieces are used, and the pieces that are not used send zeros back.
#
# Degenerate cases. The eigenvectors of a repeated eigenvalue (and the singular vectors of a repeated
# singular value) are not unique: any rotation within their space is as good, so their derivative does not
# exist, and the textbook rules divide by w_j - w_i = 0. Pairs that are equal to working precision are found.
# If the loss does not use the vectors of such a pair (it uses the eigenvalues only, or other vectors), the
# terms that pair would add are 0, and the gradient is PyTorch's. If it does use them, it either depends on
# the basis chosen (no gradient) or it does not (V diag(f(w)) Vᵀ, a matrix square root, U diag(s) Vh, a
# projector), and then the gradient may well exist (Daleckii-Krein: the pair's term tends to
# f'(w) (Vᵀ G V)_ij), but its value is a 0/0 whose limit depends on how the loss changes as the pair splits:
# the gradients that reach the rule (of w and V) are the same for losses whose limits differ (a projector
# and A = V diag(w) Vᵀ itself). So both raise a ValueError naming the way out, where PyTorch and JAX give
# inf or nan; never a finite value that might be another. Pairs that are close but not equal get the
# (correct, but large and ill-conditioned) textbook gradient.

def _tol(x, n):
    """Relative size below which two eigen/singular values count as equal: LAPACK's accuracy."""
    return n * np.finfo(_dtype_of(x)).eps


def _basis_free(who, asym, ties, scale, dtype):
    """The gradient pieces on tied pairs must be symmetric (the loss is rotation invariant there)."""
    values = "eigenvalues" if who == "eigh" else "singular values"
    if ties.any() and np.any(np.abs(asym[ties]) > np.sqrt(np.finfo(dtype).eps) * max(scale, np.finfo(dtype).tiny)):
        raise ValueError(f"{who}: the gradient is undefined: the input has repeated {values} "
                         f"and the loss depends on which basis of their space the vectors are (it is not "
                         f"invariant to rotating them); use a loss of the values only, or of the subspace "
                         f"(e.g. V Vᵀ), or perturb the input to separate the values")


def _no_vectors_of_ties(who, parts, ties, scale, dtype):
    """The loss must not use the vectors of a repeated value (see above): their pieces x = Vᵀ gV on tied pairs
    are 0."""
    if not ties.any():
        return
    limit = np.sqrt(np.finfo(dtype).eps) * max(scale, np.finfo(dtype).tiny)
    if any(np.any(np.abs(p[ties]) > limit) for p in parts):
        values, vectors = ("eigenvalues", "eigenvectors") if who == "eigh" else ("singular values", "singular vectors")
        raise ValueError(f"{who}: the gradient cannot be computed: the input has repeated {values} and the loss "
                         f"uses their {vectors}; even where it does not depend on the basis chosen (V f(w) Vᵀ, a "
                         f"matrix square root, U diag(s) Vh, a projector) the gradient there is a 0/0 limit that "
                         f"depends on the rest of the loss, not on what reaches {who}'s rule (PyTorch and JAX give "
                         f"inf or nan); compute the matrix function without {who} (e.g. A itself, or a series), use "
                         f"a loss of the {values} only, or perturb the input to separate the values")


def _eigh_forward(a, UPLO):
    _square("eigh", a)
    w, v = _linalg_call("eigh", np.linalg.eigh, a, UPLO, hint="the matrix must hold finite numbers")
    return np.concatenate([w, v.reshape(v.shape[:-2] + (-1,))], axis=-1)


def _eigh_parts(packed, n):
    lead = shape_of(packed)[:-1]
    w = getitem.raw(packed, index=(Ellipsis, slice(0, n)))
    v = reshape(getitem.raw(packed, index=(Ellipsis, slice(n, None))), shape=lead + (n, n))
    return w, v


def _eigh_vjp(g, ans, a, UPLO):
    # a = V diag(w) Vᵀ: the gradient is V (diag(gw) + F * (Vᵀ gV)) Vᵀ with F_ij = 1 / (w_j - w_i) off the
    # diagonal, made symmetric, then moved onto the triangle the forward reads (below).
    n = shape_of(a)[-1]
    gw, gv = _eigh_parts(g, n)
    w, v = _eigh_parts(ans, n)
    wd, dtype = data_of(w), _dtype_of(g)
    off = ~np.eye(n, dtype=bool)
    scale = np.max(np.abs(wd), axis=-1, keepdims=True)[..., None] if n else 0.0
    ties = off & (np.abs(wd[..., None, :] - wd[..., :, None]) <= _tol(g, n) * scale)
    use = (off & ~ties).astype(dtype)
    x = _mT(v) @ gv
    xd = data_of(x)
    _basis_free("eigh", xd - np.swapaxes(xd, -1, -2), ties, float(np.max(np.abs(xd), initial=0.0)), dtype)
    _no_vectors_of_ties("eigh", (xd,), ties, float(np.max(np.abs(xd), initial=0.0)), dtype)
    # F = 1 / (w_j - w_i) where used; elsewhere the denominator is 1 and the mask 0 (no inf, no nan).
    f = use / (reshape(w, shape=shape_of(w)[:-1] + (1, n)) - reshape(w, shape=shape_of(w)[:-1] + (n, 1))
               + (1 - use))
    inner = f * x + reshape(gw, shape=shape_of(gw) + (1,)) * _eye(n, g)
    ga = v @ inner @ _mT(v)
    return ((ga + _mT(ga)) * _read_triangle(n, UPLO, g),)


def _read_triangle(n, UPLO, like):
    """The forward reads one triangle of a (numpy's UPLO), so only that triangle has a gradient: the
    symmetric gradient's off-diagonal pair lands on the element read (twice its half), as HIPS autograd's.
    Here applied to ga + gaᵀ, twice the symmetric gradient: 1/2 on the diagonal, 1 on the read triangle."""
    read = np.tril(np.ones((n, n)), -1) if UPLO == "L" else np.triu(np.ones((n, n)), 1)
    return (read + 0.5 * np.eye(n)).astype(_dtype_of(like))


def _eigh_args(a, UPLO="L"):
    """numpy's linalg.eigh: (w, V), the eigenvalues in ascending order and the eigenvectors (the columns
    of V) of a symmetric matrix a (or of each of a stack). As numpy, only one triangle of a is read: the
    lower one (UPLO="L") or the upper one ("U"); the other is taken as its mirror. The gradient is that of
    this reading, so it lands on the triangle read, as in HIPS autograd (PyTorch, which reads the same
    triangle, reports the symmetric gradient instead: (g + gᵀ) / 2 of this one).

    Each eigenvector's sign is LAPACK's choice. With repeated eigenvalues, a loss that uses their
    eigenvectors raises a ValueError (see above): a loss that depends on the choice of eigenvectors within
    their space has no gradient, and one that does not (V diag(f(w)) Vᵀ) has one that the rule cannot tell.

    >>> import numpy as np
    >>> from tinygrad_nn import Value, eigh
    >>> a = Value([[2.0, 1.0], [1.0, 2.0]])
    >>> w, v = eigh(a)
    >>> w.data
    array([1., 3.])
    >>> w[1].backward(); a.grad.round(6)                  # the lower triangle is what was read
    array([[0.5, 0. ],
           [1. , 0.5]])
    """
    if not isinstance(UPLO, str) or UPLO.upper() not in ("L", "U"):
        raise ValueError(f"eigh: UPLO must be 'L' or 'U' (the triangle to read), got {UPLO!r}")
    n = shape_of(a)[-1] if shape_of(a) else 0
    return (a,), {"UPLO": UPLO.upper()}, lambda packed: _eigh_parts(packed, n)


# The op's output packs w and V in one last axis; _eigh_args's finish unpacks them (getitem and reshape).
eigh = defop("eigh", _eigh_forward, _eigh_vjp, prepare=_eigh_args, inputs=1, scalars=False)


def _no_zero_vector(side, p, zero, big, dtype):
    """The part of a singular vector's gradient outside the span of U (or V) is undefined if its singular
    value is 0: such a vector is any unit vector of the complement."""
    pd = np.abs(data_of(p))
    if np.any(pd * zero[..., None, :] > np.sqrt(np.finfo(dtype).eps) * max(big, float(np.max(pd, initial=0.0)),
                                                                     np.finfo(dtype).tiny)):
        raise ValueError(f"svd: the gradient is undefined: a singular value of a non-square matrix is 0 and the "
                         f"loss depends on its {side} singular vector, which is any unit vector of the "
                         f"complement; use a loss that does not, or perturb the input")


def _svd_forward(a, full_matrices):
    if np.ndim(a) < 2:
        raise ValueError(f"svd: needs a matrix or a stack of them (shape (..., m, n)), got shape {np.shape(a)}")
    u, s, vh = _linalg_call("svd", np.linalg.svd, a, full_matrices, hint="the matrix must hold finite numbers")
    lead = s.shape[:-1]
    return np.concatenate([u.reshape(lead + (-1,)), s, vh.reshape(lead + (-1,))], axis=-1)


def _svd_parts(packed, m, n, full_matrices):
    lead = shape_of(packed)[:-1]
    k = min(m, n)
    cu, cv = (m, n) if full_matrices else (k, k)  # the columns of U, the rows of Vh
    ends = [m * cu, m * cu + k]
    u = reshape(getitem.raw(packed, index=(Ellipsis, slice(0, ends[0]))), shape=lead + (m, cu))
    s = getitem.raw(packed, index=(Ellipsis, slice(ends[0], ends[1])))
    vh = reshape(getitem.raw(packed, index=(Ellipsis, slice(ends[1], None))), shape=lead + (cv, n))
    return u, s, vh


def _svd_vjp(g, ans, a, full_matrices):
    # The real case of Townsend's rule (2016), for a = U diag(s) Vᵀ (thin, k = min(m, n)):
    #   U [J diag(s) + diag(gs) + diag(s) K] Vᵀ + (I - U Uᵀ) gU diag(1/s) Vᵀ + U diag(1/s) gVᵀ (I - V Vᵀ)
    # with J = F * (Uᵀ gU - gUᵀ U), K = F * (Vᵀ gV - gVᵀ V), F_ij = 1 / (s_j² - s_i²) off the diagonal.
    m, n = shape_of(a)[-2:]
    k = min(m, n)
    gu, gs, gvh = _svd_parts(g, m, n, full_matrices)
    u, s, vh = _svd_parts(ans, m, n, full_matrices)
    dtype = _dtype_of(g)
    if full_matrices and m != n:
        # The columns of U (rows of Vh) past k span the complement in any basis: no gradient can go there.
        extra = data_of(gu)[..., :, k:] if m > n else data_of(gvh)[..., k:, :]
        if np.any(extra != 0):
            raise ValueError(f"svd: the gradient is undefined: with full_matrices=True, the last {abs(m - n)} "
                             f"singular vectors of a {m}x{n} matrix are an arbitrary basis of the complement "
                             f"and the loss depends on them; use full_matrices=False")
        if m > n:
            u, gu = getitem.raw(u, index=(Ellipsis, slice(0, k))), getitem.raw(gu, index=(Ellipsis, slice(0, k)))
        else:
            vh = getitem.raw(vh, index=(Ellipsis, slice(0, k), slice(None)))
            gvh = getitem.raw(gvh, index=(Ellipsis, slice(0, k), slice(None)))
    lead = shape_of(s)[:-1]
    sd = data_of(s)
    scale = np.max(sd, axis=-1, keepdims=True) if k else np.zeros(lead + (1,))
    tol = _tol(g, max(m, n)) * scale
    off = ~np.eye(k, dtype=bool)
    zero = sd <= tol  # (..., k)
    ties = off & (np.abs(sd[..., None, :] - sd[..., :, None]) <= tol[..., None])
    v, gv = _mT(vh), _mT(gvh)
    x, y = _mT(u) @ gu, _mT(v) @ gv
    xd, yd = data_of(x), data_of(y)
    xa, ya = xd - np.swapaxes(xd, -1, -2), yd - np.swapaxes(yd, -1, -2)
    big = float(max(np.max(np.abs(xd), initial=0.0), np.max(np.abs(yd), initial=0.0)))
    _basis_free("svd", xa + ya, ties, big, dtype)  # U and V turn together within a repeated value's space
    both_zero = ties & zero[..., :, None] & zero[..., None, :]
    _basis_free("svd", xa, both_zero, big, dtype)  # for repeated zeros they may even turn separately
    _basis_free("svd", ya, both_zero, big, dtype)
    _no_vectors_of_ties("svd", (xd, yd), ties, big, dtype)
    use = (off & ~ties).astype(dtype)
    s2 = s * s
    f = use / (reshape(s2, shape=lead + (1, k)) - reshape(s2, shape=lead + (k, 1)) + (1 - use))
    srow, scol = reshape(s, shape=lead + (1, k)), reshape(s, shape=lead + (k, 1))
    core = (f * (x - _mT(x))) * srow + scol * (f * (y - _mT(y))) + reshape(gs, shape=lead + (k, 1)) * _eye(k, g)
    ga = u @ core @ vh
    if m > k or n > k:
        # 1/s, where s is not 0; a zero singular value's vector in the complement is arbitrary (as above).
        nz = (~zero).astype(dtype)
        sinv = nz / (s + (1 - nz))
        if m > k:
            pu = gu - u @ x  # (I - U Uᵀ) gU
            _no_zero_vector("left", pu, zero, big, dtype)
            ga = ga + (pu * reshape(sinv, shape=lead + (1, k))) @ vh
        if n > k:
            pv = gv - v @ y  # (I - V Vᵀ) gV
            _no_zero_vector("right", pv, zero, big, dtype)
            ga = ga + u @ (_mT(pv) * reshape(sinv, shape=lead + (k, 1)))
    return (ga,)


def _svd_args(a, full_matrices=True, compute_uv=True):
    """numpy's linalg.svd: (U, S, Vh) with a = U diag(S) Vh (for each matrix of a stack), S descending;
    with compute_uv=False only S.

    Gradients: S always has one (it is 1-Lipschitz; at repeated values we take the usual subgradient).
    Through U and Vh, each pair of singular vectors' joint sign is LAPACK's choice, and the gradient is
    refused (a ValueError, see above) if the loss uses the vectors of a repeated singular value, the
    vector of a zero singular value of a non-square matrix, or the extra vectors of full_matrices=True
    (use full_matrices=False, as JAX requires).

    >>> import numpy as np
    >>> from tinygrad_nn import Value, svd
    >>> a = Value([[3.0, 0.0], [0.0, -2.0]])
    >>> svd(a, compute_uv=False).data
    array([3., 2.])
    >>> svd(a, compute_uv=False).sum().backward(); a.grad
    array([[ 1.,  0.],
           [ 0., -1.]])
    """
    shape = shape_of(a)
    if len(shape) < 2:
        raise ValueError(f"svd: needs a matrix or a stack of them (shape (..., m, n)), got shape {shape}")
    m, n = shape[-2:]
    if not compute_uv:
        return (a,), {"full_matrices": False}, lambda packed: _svd_parts(packed, m, n, False)[1]
    full = bool(full_matrices)
    return (a,), {"full_matrices": full}, lambda packed: _svd_parts(packed, m, n, full)


# The op's output packs U, S and Vh in one last axis; _svd_args's finish unpacks them (getitem and reshape).
svd = defop("svd", _svd_forward, _svd_vjp, prepare=_svd_args, inputs=1, scalars=False)


# -- cross products and the pseudo-inverse ------------------------------------------------------------------


@composite(inputs=2, scalars=False)
def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """numpy's cross product of 3-vectors (or the z component for 2-vectors) along the given axes,
    broadcasting the others: products and differences of slices, so every order of gradient follows.

    >>> from tinygrad_nn import Value, cross
    >>> cross(Value([1.0, 0.0, 0.0]), Value([0.0, 1.0, 0.0])).data
    array([0., 0., 1.])
    """
    from .shape import moveaxis

    if axis is not None:
        axisa = axisb = axisc = axis
    sa, sb = shape_of(a), shape_of(b)
    if not sa or not sb:
        raise ValueError(f"cross: needs vectors, got shapes {sa} and {sb}")
    a = moveaxis(a, one_axis("cross", axisa, sa, "axisa"), -1)
    b = moveaxis(b, one_axis("cross", axisb, sb, "axisb"), -1)
    na, nb = shape_of(a)[-1], shape_of(b)[-1]
    if na not in (2, 3) or nb not in (2, 3) or na != nb:
        raise ValueError(f"cross: the vectors must both have 3 components (or both 2), got {na} and {nb} "
                         f"(shapes {sa} and {sb} along axes {axisa} and {axisb})")

    def part(v, i):
        return getitem.raw(v, index=(Ellipsis, i))

    if na == 2:
        return part(a, 0) * part(b, 1) - part(a, 1) * part(b, 0)
    c = [part(a, (i + 1) % 3) * part(b, (i + 2) % 3) - part(a, (i + 2) % 3) * part(b, (i + 1) % 3)
         for i in range(3)]
    from .shape import stack

    out = stack(c, axis=-1)
    return moveaxis(out, -1, one_axis("cross", axisc, shape_of(out), "axisc"))


def _pinv_forward(a, rtol, hermitian):
    _square_or_matrix("pinv", a)
    return _linalg_call("pinv", np.linalg.pinv, a, rtol, hermitian, hint="the matrix must hold finite numbers")


def _square_or_matrix(who, a):
    if a.__class__ is float or a.ndim < 2:
        raise ValueError(f"{who}: needs a matrix or a stack of them (shape (..., m, n)), got shape {np.shape(a)}")


def _pinv_vjp(g, ans, a, rtol, hermitian):
    # Golub and Pereyra's derivative of the pseudo-inverse P of A (valid where the rank does not change):
    # dP = -P dA P + P Pᵀ dAᵀ (I - A P) + (I - P A) dAᵀ Pᵀ P. Its adjoint, written with the ops:
    p, pt, gt = ans, _mT(ans), _mT(g)
    m, n = shape_of(a)[-2:]
    left = _eye(m, g) - a @ p  # the part of R^m the columns of A do not reach
    right = _eye(n, g) - p @ a
    return (-(pt @ g @ pt) + left @ gt @ p @ pt + pt @ p @ gt @ right,)


def _pinv_args(a, rcond=None, hermitian=False, *, rtol=None):
    """numpy's linalg.pinv: the Moore-Penrose pseudo-inverse of a matrix (or each of a stack), from its SVD
    with singular values below rtol * the largest treated as zero.

    The gradient is Golub and Pereyra's, exact wherever a small change of a keeps its rank (every matrix of
    full rank, and a rank-deficient one moved within its rank); across a change of rank the pseudo-inverse
    itself jumps. It is written with matmul, so it can be differentiated again.

    >>> import numpy as np
    >>> from tinygrad_nn import Value, pinv
    >>> a = Value([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    >>> pinv(a).data
    array([[1. , 0. , 0. ],
           [0. , 0.5, 0. ]])
    """
    if rcond is not None and rtol is not None:
        raise ValueError("pinv: give rcond or rtol, not both (numpy's rtol is the newer name of rcond)")
    tol = rtol if rtol is not None else (1e-15 if rcond is None else rcond)
    if isinstance(tol, Value):
        raise TypeError("pinv: rtol must be a number or an array, not a Value (no gradient flows through it)")
    return (a,), {"rtol": tol, "hermitian": bool(hermitian)}


pinv = defop("pinv", _pinv_forward, _pinv_vjp, prepare=_pinv_args, inputs=1, scalars=False)


# The docstrings of the ops above run as doctests too (doctest finds functions by itself, not ops).
__test__ = doctests(__name__)
