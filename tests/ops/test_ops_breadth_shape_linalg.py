"""Edges of the shape and linear-algebra functions (issue 9) that the property tests keep away from:
numpy's odd argument forms, errors, dtypes, pieces that are not used, singular matrices, repeated eigenvalues
and singular values. Where torch is installed, einsum's and the factorizations' gradients are compared with it.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_nn as tg
from tinygrad_nn import Value, gradcheck, gradgradcheck, gradients
from tinygrad_nn.ops import (
    array_split,
    astype,
    cholesky,
    det,
    diag,
    diagonal,
    dot,
    eigh,
    einsum,
    flip,
    hsplit,
    hstack,
    identity,
    inner,
    inv,
    kron,
    moveaxis,
    outer,
    pad,
    repeat,
    roll,
    slogdet,
    solve,
    split,
    svd,
    swapaxes,
    tensordot,
    tile,
    trace,
    tril,
    triu,
    vsplit,
    vstack,
)
from tinygrad_nn.ops import sum as vsum

rng = np.random.default_rng(20240611)


def grad_of(f, *arrays):
    """Gradients of sum(f(*xs) * w) for a fixed random weight w (so that every output element counts)."""
    xs = [Value(np.array(a, dtype=float)) for a in arrays]
    out = f(*xs)
    w = np.random.default_rng(0).uniform(0.5, 1.5, out.shape)
    vsum(out * w).backward()
    return [x.grad for x in xs], w


# -- pad --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pad_width", [2, (1, 2), ((1, 2),), ((0, 1), (2, 0)), [[1, 1], [0, 3]], np.array([1, 0])])
def test_pad_accepts_numpys_pad_width_forms(pad_width):
    x = rng.uniform(-1, 1, (2, 3))
    got = pad(Value(x), pad_width, constant_values=((1.5, -2.0), (3.0, 4.0)))
    np.testing.assert_array_equal(got.data, np.pad(x, pad_width, constant_values=((1.5, -2.0), (3.0, 4.0))))
    (g,), w = grad_of(lambda v: pad(v, pad_width, constant_values=7.0), x)
    # the gradient is the interior of the weights: the frame gets none
    inner = tuple(slice(b, b + s) for s, (b, _) in zip(x.shape, np.broadcast_to(pad_width, (2, 2))))
    np.testing.assert_array_equal(g, w[inner])


def test_pad_errors_name_the_fix():
    x = Value(np.ones((2, 2)))
    with pytest.raises(NotImplementedError, match="pad: only mode='constant'"):
        pad(x, 1, mode="reflect")
    with pytest.raises(ValueError, match="pad: pad widths must not be negative"):
        pad(x, -1)
    with pytest.raises(ValueError, match=r"pad: pad_width .* does not fit .* shape \(2, 2\)"):
        pad(x, ((1, 1), (1, 1), (1, 1)))
    with pytest.raises(TypeError, match="pad: pad_width must hold ints"):
        pad(x, 1.5)


def test_pad_keeps_float32():
    x = Value(np.ones(3, np.float32))
    y = pad(x, 1, constant_values=0.1)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.data, np.pad(np.ones(3, np.float32), 1, constant_values=0.1))


# -- flip, roll, tile, repeat -------------------------------------------------------------------------------


def test_flip_method_spellings():
    x = rng.uniform(-1, 1, (2, 3, 2))
    v = Value(x)
    np.testing.assert_array_equal(v.flip().data, np.flip(x))
    np.testing.assert_array_equal(v.flip(0).data, np.flip(x, 0))
    np.testing.assert_array_equal(v.flip(0, 2).data, np.flip(x, (0, 2)))
    np.testing.assert_array_equal(v.flip((0, -1)).data, np.flip(x, (0, -1)))
    np.testing.assert_array_equal(v.flip(axis=1).data, np.flip(x, 1))
    with pytest.raises(ValueError, match="flip: axis 3 is out of range"):
        flip(v, 3)
    with pytest.raises(ValueError, match=r"flip: axis \(0, -3\) repeats an axis \(axis 0 of an input of shape "
                                         r"\(2, 3, 2\)\)"):
        flip(v, (0, -3))


def test_flip_and_roll_of_0d_and_zero_shift_give_new_nodes():
    x = Value(np.array(2.0))
    assert flip(x) is not x and flip(x).shape == ()
    y = Value(np.arange(4.0))
    r = roll(y, 4)  # a full turn: the values unchanged, still a node of its own (numpy copies too)
    assert r is not y
    np.testing.assert_array_equal(r.data, y.data)
    np.testing.assert_array_equal(roll(Value(np.array(3.0)), 2).data, np.roll(np.array(3.0), 2))


def test_roll_gradient_rolls_back():
    x = rng.uniform(-1, 1, (3, 4))
    (g,), w = grad_of(lambda v: roll(v, (1, -2, 5), axis=(0, 1, 1)), x)
    np.testing.assert_array_equal(g, np.roll(w, (-1, 2, -5), axis=(0, 1, 1)))
    (g,), w = grad_of(lambda v: roll(v, 5), x)  # axis None: over the flattened input
    np.testing.assert_array_equal(g, np.roll(w, -5))
    with pytest.raises(ValueError, match="roll: shift .* and axis .* must have the same length"):
        roll(Value(x), (1, 2), axis=(0, 1, 1))


@pytest.mark.parametrize("reps", [0, 3, (2, 1), (2, 1, 1, 2), (0, 2)])
def test_tile_matches_numpy_and_sums_the_copies(reps):
    x = rng.uniform(-1, 1, (2, 3))
    np.testing.assert_array_equal(tile(Value(x), reps).data, np.tile(x, reps))
    np.testing.assert_array_equal(Value(x).tile(reps).data, np.tile(x, reps))
    (g,), w = grad_of(lambda v: tile(v, reps), x)
    # each input element collects the weights of all its copies: tile the index grid to find them
    idx = np.tile(np.arange(x.size).reshape(x.shape), reps)
    np.testing.assert_allclose(g.ravel(), np.bincount(idx.ravel(), weights=w.ravel(), minlength=x.size))


def test_repeat_follows_numpy_and_value_has_no_repeat_method():
    # numpy's ndarray.repeat and PyTorch's Tensor.repeat disagree (repeat vs tile): Value offers neither.
    assert not hasattr(Value, "repeat")
    x = rng.uniform(-1, 1, (2, 3))
    np.testing.assert_array_equal(repeat(Value(x), [2, 0, 1], axis=1).data, np.repeat(x, [2, 0, 1], axis=1))
    np.testing.assert_array_equal(repeat(Value(x), 2).data, np.repeat(x, 2))
    (g,), w = grad_of(lambda v: repeat(v, [2, 0, 1], axis=1), x)
    np.testing.assert_allclose(g, np.stack([w[:, 0] + w[:, 1], np.zeros(2), w[:, 2]], axis=1))
    with pytest.raises(ValueError, match=r"repeat: repeats of shape \(2,\) need one count per element"):
        repeat(Value(x), [1, 2], axis=1)
    with pytest.raises(ValueError, match="repeat: repeats must not be negative"):
        repeat(Value(x), -1)
    with pytest.raises(TypeError, match="repeat: repeats must be an int"):
        repeat(Value(x), 1.5)


# -- split and friends ----------------------------------------------------------------------------------


def test_split_pieces_get_their_own_gradients_and_unused_ones_zero():
    x = Value(np.arange(12.0).reshape(3, 4))
    a, b, c = split(x, [1, 3], axis=1)
    assert [p.shape for p in (a, b, c)] == [(3, 1), (3, 2), (3, 1)]
    vsum(a * 2.0 + 0.0).backward()  # only the first piece is used
    want = np.zeros((3, 4))
    want[:, 0] = 2.0
    np.testing.assert_array_equal(x.grad, want)

    x = Value(np.arange(6.0))
    p, q, r = array_split(x, 3)
    (vsum(p) + vsum(r) * 3.0).backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0, 0.0, 0.0, 3.0, 3.0])


def test_split_counts_and_errors():
    x = Value(np.arange(7.0))
    assert [p.shape for p in array_split(x, 3)] == [(3,), (2,), (2,)]
    assert [p.shape for p in array_split(x, 9)] == [(1,)] * 7 + [(0,)] * 2  # as numpy: empty pieces at the end
    with pytest.raises(ValueError, match="split: 7 elements along axis 0 do not split into 3 equal.*array_split"):
        split(x, 3)
    with pytest.raises(ValueError, match="number of pieces must be at least 1"):
        array_split(x, 0)
    with pytest.raises(ValueError, match="vsplit: needs an input of at least 2 axes"):
        vsplit(x, 1)
    assert [p.shape for p in hsplit(x, [2])] == [(2,), (5,)]  # a vector splits along axis 0
    assert [p.shape for p in hsplit(Value(np.ones((2, 4))), 2)] == [(2, 2), (2, 2)]
    assert [p.shape for p in vsplit(Value(np.ones((4, 2))), [1])] == [(1, 2), (3, 2)]
    assert not hasattr(Value, "split")  # PyTorch's Tensor.split takes piece sizes, numpy's split a count


# -- tril, triu, diag, diagonal, trace ------------------------------------------------------------------------


def test_tril_triu_zero_inf_and_nan_outside_and_pass_no_gradient_there():
    x = np.array([[1.0, np.inf], [np.nan, 4.0]])
    np.testing.assert_array_equal(tril(Value(x)).data, np.tril(x))
    np.testing.assert_array_equal(triu(Value(x)).data, np.triu(x))
    v = Value(x)
    vsum(tril(v, -1) + triu(v, 1)).backward()
    np.testing.assert_array_equal(v.grad, [[0.0, 1.0], [1.0, 0.0]])


def test_tril_of_a_vector_and_of_a_stack_match_numpy():
    v = rng.uniform(-1, 1, 3)
    np.testing.assert_array_equal(tril(Value(v), 1).data, np.tril(v, 1))  # numpy makes a square
    s = rng.uniform(-1, 1, (2, 3, 4))
    np.testing.assert_array_equal(triu(Value(s), -1).data, np.triu(s, -1))
    np.testing.assert_array_equal(Value(s).tril().data, np.tril(s))
    with pytest.raises(ValueError, match="tril: needs a matrix"):
        tril(Value(np.array(1.0)))


def test_diag_round_trip_and_errors():
    v = Value([1.0, 2.0, 3.0])
    m = diag(v, 1)
    np.testing.assert_array_equal(m.data, np.diag(v.data, 1))
    np.testing.assert_array_equal(diag(m, 1).data, v.data)
    vsum(diag(m, 1) * Value([1.0, 10.0, 100.0])).backward()
    np.testing.assert_array_equal(v.grad, [1.0, 10.0, 100.0])
    np.testing.assert_array_equal(diag(Value(np.ones((2, 3))), 5).data, np.diag(np.ones((2, 3)), 5))  # empty
    with pytest.raises(ValueError, match="diag: needs a 1-D or 2-D input"):
        diag(Value(np.ones((2, 2, 2))))


def test_diagonal_and_trace_over_other_axes():
    x = rng.uniform(-1, 1, (2, 3, 4))
    for kw in [{"axis1": 1, "axis2": 2}, {"offset": 1, "axis1": 2, "axis2": 0},
               {"offset": -2, "axis1": -1, "axis2": 1}]:
        np.testing.assert_array_equal(diagonal(Value(x), **kw).data, np.diagonal(x, **kw))
        np.testing.assert_allclose(trace(Value(x), **kw).data, np.trace(x, **kw), rtol=1e-15)
        np.testing.assert_array_equal(Value(x).diagonal(**kw).data, x.diagonal(**kw))
    (g,), w = grad_of(lambda v: trace(v, offset=1, axis1=1, axis2=2), x)
    want = np.zeros_like(x)
    for i in range(2):
        for j in range(2):  # the diagonal above the main one of each 3 x 4 matrix
            want[i, j, j + 1] = w[i]
        want[i, 2, 3] = w[i]
    np.testing.assert_array_equal(g, want)
    with pytest.raises(ValueError, match="diagonal: axis1 and axis2 must differ"):
        diagonal(Value(x), axis1=0, axis2=-3)
    with pytest.raises(ValueError, match="trace: needs an input of at least 2 axes"):  # trace, not diagonal
        trace(Value([1.0, 2.0]))


# -- ravel, swapaxes, moveaxis, vstack, hstack ---------------------------------------------------------------


def test_axes_functions_match_numpy():
    x = rng.uniform(-1, 1, (2, 3, 4))
    np.testing.assert_array_equal(Value(x).ravel().data, x.ravel())
    np.testing.assert_array_equal(tg.ravel(Value(np.array(2.0))).data, np.ravel(np.array(2.0)))
    np.testing.assert_array_equal(swapaxes(Value(x), 0, -1).data, np.swapaxes(x, 0, -1))
    np.testing.assert_array_equal(Value(x).swapaxes(1, 2).data, x.swapaxes(1, 2))
    np.testing.assert_array_equal(moveaxis(Value(x), [0, 1], [-1, 0]).data, np.moveaxis(x, [0, 1], [-1, 0]))
    np.testing.assert_array_equal(Value(x).moveaxis(2, 0).data, np.moveaxis(x, 2, 0))
    with pytest.raises(ValueError, match="moveaxis: source .* and destination .* must name as many axes"):
        moveaxis(Value(x), [0, 1], [0])
    with pytest.raises(ValueError, match="swapaxes: axis2=3 is out of range"):
        swapaxes(Value(x), 0, 3)


def test_vstack_hstack_of_mixed_ranks():
    a, b = rng.uniform(-1, 1, 3), rng.uniform(-1, 1, (2, 3))
    np.testing.assert_array_equal(vstack([Value(a), Value(b)]).data, np.vstack([a, b]))
    np.testing.assert_array_equal(hstack([Value(1.0), Value(np.array(2.0)), Value(a)]).data,
                                  np.hstack([1.0, np.array(2.0), a]))
    (ga, gb), w = grad_of(lambda u, v: vstack([u, v]), a, b)
    np.testing.assert_array_equal(ga, w[0])
    np.testing.assert_array_equal(gb, w[1:])
    with pytest.raises(ValueError, match="vstack: needs at least one input"):
        vstack([])


# -- astype ---------------------------------------------------------------------------------------------------


def test_astype_gradient_comes_back_in_the_inputs_dtype():
    x32 = Value(np.array([1.5, -2.0], np.float32))
    y = astype(x32, np.float64)
    assert y.dtype == np.float64
    vsum(y * y).backward()
    assert x32.grad.dtype == np.float32
    np.testing.assert_array_equal(x32.grad, np.array([3.0, -4.0], np.float32))

    x64 = Value(np.array([1.0 / 3.0, 2.0]))
    z = x64.astype("float32")
    assert z.dtype == np.float32
    np.testing.assert_array_equal(z.data, np.array([1.0 / 3.0, 2.0], np.float32))
    vsum(z * np.float32(3.0)).backward()
    assert x64.grad.dtype == np.float64
    np.testing.assert_array_equal(x64.grad, [3.0, 3.0])


def test_astype_second_order_keeps_dtypes():
    x = identity(Value(np.array([0.5, 2.0], np.float32)))
    y = astype(x, np.float64)
    (g,) = gradients(vsum(y ** 3), [x], create_graph=True)
    assert g.dtype == np.float32
    (h,) = gradients(vsum(g), [x])
    assert h.dtype == np.float32
    np.testing.assert_allclose(h, 6 * np.array([0.5, 2.0]), rtol=1e-6)


def test_astype_rejects_non_real_dtypes_and_float32_scalars():
    # Integer dtypes give plain integers without gradient (issue 19; tests/engine/test_pytorch_habits.py); a
    # complex one is still refused.
    with pytest.raises(TypeError, match="astype: Values hold real floats.*got complex128"):
        astype(Value([1.0]), np.complex128)
    with pytest.raises(TypeError, match="astype:"):
        astype(Value([1.0]), "no such dtype")
    assert astype(Value(2.0), np.float64).data == 2.0
    with pytest.raises(ValueError, match="astype: a scalar Value holds a Python float"):
        astype(Value(2.0), np.float32)


# -- dot, tensordot, inner, outer, kron -------------------------------------------------------------------------


@pytest.mark.parametrize("sa,sb", [((), (2, 3)), ((3,), (3,)), ((2, 3), (3,)), ((3,), (2, 3, 4)), ((2, 3), (3, 4)),
                                   ((2, 2, 3), (3,)), ((2, 3), (4, 3, 2)), ((2, 1, 3), (2, 3, 2))])
def test_dot_matches_numpy(sa, sb):
    a, b = rng.uniform(-1, 1, sa), rng.uniform(-1, 1, sb)
    np.testing.assert_allclose(dot(Value(a), Value(b)).data, np.dot(a, b), rtol=1e-13)
    if sa:
        np.testing.assert_allclose(Value(a).dot(b).data, a.dot(b), rtol=1e-13)
    assert gradcheck(dot, a, b)


def test_dot_tensordot_inner_errors_name_the_op():
    with pytest.raises(ValueError, match=r"dot: shapes \(2, 3\) and \(2,\) are not aligned"):
        dot(Value(np.ones((2, 3))), Value(np.ones(2)))
    with pytest.raises(ValueError, match="tensordot: summed axes differ in size"):
        tensordot(Value(np.ones((2, 3))), Value(np.ones((2, 3))), axes=([1], [0]))
    with pytest.raises(ValueError, match="tensordot: axes=3 needs"):
        tensordot(Value(np.ones((2, 3))), Value(np.ones((2, 3))), axes=3)
    with pytest.raises(ValueError, match="inner: the last axes"):
        inner(Value(np.ones((2, 3))), Value(np.ones(2)))


def test_outer_inner_kron_methods_and_numpy():
    a, b = rng.uniform(-1, 1, (2, 2)), rng.uniform(-1, 1, (3,))
    np.testing.assert_array_equal(outer(Value(a), Value(b)).data, np.outer(a, b))
    np.testing.assert_array_equal(Value(a).kron(b).data, np.kron(a, b))
    np.testing.assert_allclose(Value(b).inner(Value(b)).data, np.inner(b, b), rtol=1e-15)
    np.testing.assert_array_equal(kron(Value(2.0), Value(3.0)).data, 6.0)


# -- einsum -------------------------------------------------------------------------------------------------

# (subscripts, operand shapes): contractions, diagonals, sums over letters of one operand, '...' broadcasting
# (also against size-1 axes), implicit output, three operands.
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("iij,jk->ik", [(2, 2, 3), (3, 2)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),
    ("...i,...i", [(2, 3), (1, 3)]),
    ("i...,i", [(3, 2, 2), (3,)]),
    ("ij,jk,kl->li", [(2, 3), (3, 2), (2, 2)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ba,ac", [(2, 3), (3, 2)]),
    ("aB,Bc->ca", [(2, 3), (3, 2)]),
]


@pytest.mark.parametrize("subscripts,shapes", EINSUM_CASES)
def test_einsum_gradients_match_torch(subscripts, shapes):
    torch = pytest.importorskip("torch")
    arrays = [rng.uniform(-1, 1, s) for s in shapes]
    xs = [Value(a) for a in arrays]
    out = einsum(subscripts, *xs)
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    tout = torch.einsum(subscripts, *ts)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = rng.uniform(0.5, 1.5, out.shape)
    vsum(out * w).backward()
    (tout * torch.tensor(w)).sum().backward()
    for x, t in zip(xs, ts):
        assert x.grad.shape == x.shape
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("subscripts,shapes", [c for c in EINSUM_CASES if len(c[1]) <= 2][:8])
def test_einsum_second_order(subscripts, shapes):
    arrays = [rng.uniform(-1, 1, s) for s in shapes]
    assert gradgradcheck(lambda *xs: einsum(subscripts, *xs), *arrays)


def test_einsum_diagonal_gradients_by_hand():
    a = Value(np.arange(9.0).reshape(3, 3))
    einsum("ii->i", a).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(a.grad, np.diag([1.0, 2.0, 3.0]))
    b = Value(np.arange(8.0).reshape(2, 2, 2))
    einsum("iii->", b).backward()
    want = np.zeros((2, 2, 2))
    want[0, 0, 0] = want[1, 1, 1] = 1.0
    np.testing.assert_array_equal(b.grad, want)


def test_einsum_size_one_axes_broadcast_and_their_gradient_sums():
    # numpy broadcasts a size-1 axis under a letter against a longer one; its gradient sums over that axis.
    a, b = rng.uniform(-1, 1, (1, 3)), rng.uniform(-1, 1, (2, 3))
    (ga, gb), w = grad_of(lambda u, v: einsum("ij,ij->ij", u, v), a, b)
    np.testing.assert_allclose(ga, (w * b).sum(axis=0, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(gb, w * a, rtol=1e-14)
    (ga, gb), w = grad_of(lambda u, v: einsum("...i,...i->...", u, v), rng.uniform(-1, 1, (2, 1, 3)), b)
    assert ga.shape == (2, 1, 3) and gb.shape == (2, 3)


def test_einsum_forms_numpy_accepts():
    a, b = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, (3, 4))
    want = np.einsum("ij,jk->ik", a, b)
    np.testing.assert_allclose(einsum(Value(a), [0, 1], Value(b), [1, 2], [0, 2]).data, want, rtol=1e-14)
    np.testing.assert_allclose(einsum(Value(a), [0, 1], Value(b), [1, 2]).data, want, rtol=1e-14)  # implicit
    np.testing.assert_allclose(einsum(" ij , jk -> ik ", Value(a), Value(b)).data, want, rtol=1e-14)
    np.testing.assert_allclose(einsum(Value(a), [Ellipsis, 1]).data, np.einsum(a, [Ellipsis, 1]), rtol=1e-14)
    y = einsum("ij,jk->ik", Value(a), Value(b), optimize=True)
    np.testing.assert_allclose(y.data, want, rtol=1e-13)
    assert gradcheck(lambda u, v: einsum("ij,jk->ik", u, v, optimize="greedy"), a, b)
    np.testing.assert_array_equal(einsum("aB", Value(a)).data, np.einsum("aB", a))  # implicit: 'Ba' (ASCII)


def test_einsum_errors():
    with pytest.raises(ValueError, match="einsum"):
        einsum("ij,jk->ik", Value(np.ones((2, 3))), Value(np.ones((2, 4))))
    with pytest.raises(ValueError, match="einsum: subscripts 'ij' came without operands"):
        einsum("ij")
    with pytest.raises(ValueError, match="einsum: a subscript list holds ints"):
        einsum(Value(np.ones(2)), [60])
    with pytest.raises(TypeError, match="einsum: needs subscripts and operands"):
        einsum()


# -- inv, solve ---------------------------------------------------------------------------------------------


def test_inv_of_a_singular_matrix_raises_naming_inv():
    with pytest.raises(ValueError, match="inv: Singular matrix.*regularise"):
        inv(Value([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(ValueError, match=r"inv: needs a square matrix .* got shape \(2, 3\)"):
        inv(Value(np.ones((2, 3))))


def test_solve_follows_numpy2_vector_rule():
    a = rng.uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3)
    b = rng.uniform(-1, 1, 3)  # one vector for both matrices
    np.testing.assert_allclose(solve(Value(a), Value(b)).data, np.linalg.solve(a, b), rtol=1e-13)
    assert gradcheck(solve, a, b)
    b2 = rng.uniform(-1, 1, (3, 2))  # matrices broadcast against the stack
    np.testing.assert_allclose(solve(Value(a), Value(b2)).data, np.linalg.solve(a, b2), rtol=1e-13)
    assert gradcheck(solve, a, b2)
    with pytest.raises(ValueError, match=r"solve: b must have shape \(3,\) or \(\.\.\., 3, k\)"):
        solve(Value(a), Value(np.ones(2)))
    with pytest.raises(ValueError, match="solve: Singular matrix"):
        solve(Value(np.zeros((2, 2))), Value(np.ones(2)))


# -- det, slogdet: the singular edge ---------------------------------------------------------------------------


def cofactor(a):
    """The cofactor matrix by its definition (signed minors): the gradient of det, for any matrix."""
    n = a.shape[0]
    c = np.zeros_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, axis=0), j, axis=1)
            c[i, j] = (-1) ** (i + j) * (np.linalg.det(minor) if n > 1 else 1.0)
    return c


@pytest.mark.parametrize("a", [
    np.array([[1.0, 2.0], [2.0, 4.0]]),  # rank 1 of 2: the gradient is not zero
    np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]),  # rank 2 of 3
    np.outer([1.0, 2.0, -1.0], [0.5, 1.0, 3.0]),  # rank 1 of 3: the gradient is zero
    np.zeros((3, 3)),
    np.array([[0.0]]),  # 1 x 1: d det / d a = 1
])
def test_det_gradient_at_singular_matrices_is_the_cofactor_matrix(a):
    x = Value(a)
    d = det(x)
    assert abs(d.data) < 1e-12
    d.backward()
    # det(a) * inv(a).T would fail (or give nan) here; the cofactor matrix is the true gradient.
    np.testing.assert_allclose(x.grad, cofactor(a), atol=1e-12)
    assert np.isfinite(x.grad).all()
    assert gradcheck(det, a)  # det is a polynomial: central differences are accurate at any matrix


def test_det_gradient_near_singular_is_continuous():
    a = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    for eps in [1e-4, 1e-8, 1e-12]:
        x = Value(a + eps * np.eye(3))
        det(x).backward()
        np.testing.assert_allclose(x.grad, cofactor(a + eps * np.eye(3)), atol=1e-9)


def test_det_second_derivative_at_a_singular_matrix_is_exact_and_the_third_raises_clearly():
    # det's second derivative exists everywhere (a polynomial): taken from the SVD, it is right at singular
    # matrices (d2 det / da_ij da_kl of a 2x2 matrix is +-1 at the cofactor positions, whatever a is); the
    # third, which needs inv(a), raises there instead of returning a wrong number.
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    x = identity(Value(a))
    (g,) = gradients(det(x), [x], create_graph=True)
    np.testing.assert_allclose(g.data, cofactor(a), atol=1e-12)
    w = rng.uniform(size=(2, 2))
    (h,) = gradients(vsum(g * w), [x], create_graph=True)
    np.testing.assert_allclose(h.data, [[w[1, 1], -w[1, 0]], [-w[0, 1], w[0, 0]]], atol=1e-12)
    assert gradgradcheck(det, a)  # singular: right
    assert gradgradcheck(det, a + np.eye(2))  # invertible: fine
    b = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    x = identity(Value(b))
    (g,) = gradients(det(x), [x], create_graph=True)
    (h,) = gradients(vsum(g * rng.uniform(size=(3, 3))), [x], create_graph=True)
    with pytest.raises(ValueError, match="inv: Singular matrix"):
        gradients(vsum(h * rng.uniform(size=(3, 3))), [x])


def test_det_of_stacks_and_against_torch():
    a = rng.uniform(-1, 1, (2, 3, 3))
    x = Value(a)
    d = det(x)
    np.testing.assert_allclose(d.data, np.linalg.det(a), rtol=1e-13)
    d.backward(np.array([1.0, -2.0]))
    torch = pytest.importorskip("torch")
    t = torch.tensor(a, requires_grad=True)
    (torch.linalg.det(t) * torch.tensor([1.0, -2.0], dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_slogdet_sign_is_a_constant_and_logabsdet_has_the_inverse_gradient():
    a = np.array([[0.0, 2.0], [3.0, 1.0]])  # det -6
    x = Value(a)
    sign, logabs = slogdet(x)
    assert sign.data == -1.0 and not sign.requires_grad
    assert logabs.data == pytest.approx(np.log(6.0))
    (sign * logabs).backward()  # the sign is a constant factor
    np.testing.assert_allclose(x.grad, -np.linalg.inv(a).T, rtol=1e-14)
    s2, l2 = Value(a).slogdet()
    assert s2.data == -1.0 and l2.data == logabs.data


def test_slogdet_at_a_singular_matrix():
    x = Value([[1.0, 2.0], [2.0, 4.0]])
    sign, logabs = slogdet(x)
    assert sign.data == 0.0 and logabs.data == -np.inf
    with pytest.raises(ValueError, match="inv: Singular matrix"):  # the gradient does not exist
        logabs.backward()


# -- cholesky ------------------------------------------------------------------------------------------------


def spd(n, lead=()):
    b = rng.uniform(-1, 1, lead + (n, n))
    return b @ np.swapaxes(b, -1, -2) + n * np.eye(n)


def test_cholesky_gradient_is_symmetric_and_matches_torch():
    a = spd(3)
    x = Value(a)
    L = cholesky(x)
    np.testing.assert_array_equal(L.data, np.linalg.cholesky(a))
    w = rng.uniform(-1, 1, (3, 3))
    vsum(L * w).backward()
    np.testing.assert_allclose(x.grad, x.grad.T, rtol=1e-12)
    torch = pytest.importorskip("torch")
    t = torch.tensor(a, requires_grad=True)
    (torch.linalg.cholesky(t) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_cholesky_reads_the_symmetric_part_and_rejects_indefinite_matrices():
    a = spd(3)
    skew = np.triu(np.ones((3, 3)), 1) - np.tril(np.ones((3, 3)), -1)
    # As JAX does: a + skew has symmetric part a, so the same factor (numpy would read the lower triangle).
    np.testing.assert_allclose(cholesky(Value(a + 0.1 * skew)).data, np.linalg.cholesky(a), rtol=1e-14)
    with pytest.raises(ValueError, match="cholesky: Matrix is not positive definite.*symmetric positive definite"):
        cholesky(Value(-np.eye(2)))
    assert Value(a).cholesky().shape == (3, 3)


# -- eigh and svd: repeated values --------------------------------------------------------------------------


def test_eigh_with_repeated_eigenvalues():
    a = np.diag([1.0, 1.0, 3.0])
    x = Value(a)
    w, v = eigh(x)
    vsum(w * Value([1.0, 2.0, 5.0])).backward()  # the values alone: always defined
    assert np.isfinite(x.grad).all()
    # the vectors of the third, single eigenvalue: defined
    x = Value(a)
    w, v = eigh(x)
    vsum(v[:, 2:] @ v[:, 2:].T * rng.uniform(-1, 1, (3, 3))).backward()
    assert np.isfinite(x.grad).all()
    # the projector onto the repeated eigenvalue's space does not depend on the basis chosen, but to the rule it
    # looks the same as V diag(w) Vᵀ (whose gradient there needs what happens as the pair splits): refused, where
    # the rule used to give a finite value that was right for the projector and wrong for the other
    x = Value(a)
    w, v = eigh(x)
    p = v[:, :2] @ v[:, :2].T
    with pytest.raises(ValueError, match="eigh: the gradient cannot be computed: the input has repeated eigenvalues"):
        vsum(p * rng.uniform(-1, 1, (3, 3))).backward()
    # a rotation within that space changes this loss: no gradient, a clear error instead of inf or nan
    x = Value(a + np.array([[0.0, 1e-17, 0.0], [1e-17, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    w, v = eigh(x)
    with pytest.raises(ValueError, match="eigh: the gradient is undefined: the input has repeated eigenvalues"):
        vsum(v * np.array([[1.0, 2.0, 0.0], [3.0, 4.0, 0.0], [0.0, 0.0, 0.0]])).backward()


def test_eigh_gradients_match_torch():
    torch = pytest.importorskip("torch")
    q = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    a = q @ np.diag([-1.0, 0.5, 2.0]) @ q.T
    a = (a + a.T) / 2
    wt = rng.uniform(-1, 1, 3)
    x = Value(a)
    w, v = eigh(x)
    vsum(w * wt + vsum(v * v * 2.0, axis=0) * wt + v[0] * v[1]).backward()
    t = torch.tensor(a, requires_grad=True)
    tw, tv = torch.linalg.eigh(t)
    (tw * torch.tensor(wt) + (tv * tv * 2.0).sum(0) * torch.tensor(wt) + tv[0] * tv[1]).sum().backward()
    # Both read the lower triangle; PyTorch reports the symmetric part of the gradient of that reading.
    np.testing.assert_allclose((x.grad + x.grad.T) / 2, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert np.all(np.triu(x.grad, 1) == 0)


@pytest.mark.parametrize("uplo", ["L", "U", "l"])
def test_eigh_reads_one_triangle_as_numpy_and_differentiates_that_reading(uplo):
    a = rng.standard_normal((2, 4, 4))  # not symmetric: only the triangle UPLO names counts
    w, v = eigh(Value(a), uplo)
    nw, nv = np.linalg.eigh(a, uplo)
    np.testing.assert_allclose(w.data, nw, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.abs(v.data), np.abs(nv), rtol=1e-10, atol=1e-12)
    gradcheck(lambda x: eigh(x, uplo)[0], a)
    with pytest.raises(ValueError, match=r"^eigh: UPLO must be 'L' or 'U'"):
        eigh(Value(a), "X")


def test_svd_with_repeated_and_zero_singular_values():
    x = Value(np.eye(3) * 2.0)
    vsum(svd(x, compute_uv=False)).backward()  # singular values alone: defined
    np.testing.assert_allclose(x.grad, np.eye(3), atol=1e-14)
    x = Value(np.eye(3) * 2.0)
    u, s, vh = svd(x)
    with pytest.raises(ValueError, match="svd: the gradient cannot be computed: the input has repeated singular"):
        vsum((u @ vh) * rng.uniform(-1, 1, (3, 3))).backward()  # the polar factor: the rule gave it a wrong value
    x = Value(np.eye(3) * 2.0)
    u, s, vh = svd(x)
    with pytest.raises(ValueError, match="svd: the gradient is undefined: the input has repeated singular values"):
        (u[0, 1] + u[1, 0] * 2.0).backward()
    r = np.array([[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]])  # rank 1: one zero singular value, a 3 x 2 matrix
    x = Value(r)
    s = svd(x, compute_uv=False)
    vsum(s).backward()
    assert np.isfinite(x.grad).all()
    x = Value(r)
    u, s, vh = svd(x, full_matrices=False)
    with pytest.raises(ValueError, match="svd: the gradient is undefined: a singular value of a non-square matrix"):
        vsum(u[:, 1] * np.array([0.0, 0.0, 1.0])).backward()


def test_svd_full_matrices_extra_vectors_have_no_gradient():
    a = rng.uniform(-1, 1, (3, 2))
    x = Value(a)
    u, s, vh = svd(x)  # numpy's default full_matrices=True: u is 3 x 3
    assert u.shape == (3, 3) and vh.shape == (2, 2)
    vsum(u[:, :2] * u[:1, :2]).backward()  # only the thin part: fine
    assert np.isfinite(x.grad).all()
    x = Value(a)
    u, s, vh = svd(x)
    with pytest.raises(ValueError, match="svd: the gradient is undefined: with full_matrices=True.*=False"):
        vsum(u[:, 2]).backward()


def test_svd_gradients_match_torch():
    torch = pytest.importorskip("torch")
    for shape in [(3, 2), (2, 3), (3, 3), (2, 3, 2)]:
        a = rng.uniform(-1, 1, shape)
        x = Value(a)
        u, s, vh = svd(x, full_matrices=False)
        # a loss invariant to the joint sign of each singular pair, using U, S and Vh
        wu, wv = rng.uniform(-1, 1, u.shape), rng.uniform(-1, 1, vh.shape)
        loss = vsum((u * u[..., :1, :]) * wu) + vsum((vh * vh[..., :, :1]) * wv) + vsum(s ** 2)
        loss.backward()
        t = torch.tensor(a, requires_grad=True)
        tu, ts, tvh = torch.linalg.svd(t, full_matrices=False)
        tl = (((tu * tu[..., :1, :]) * torch.tensor(wu)).sum() + ((tvh * tvh[..., :, :1]) * torch.tensor(wv)).sum()
              + (ts ** 2).sum())
        tl.backward()
        np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-8, atol=1e-10)


# -- exports and methods ------------------------------------------------------------------------------------


def test_exported_from_the_package_and_methods_attached():
    names = ["pad", "flip", "roll", "tile", "repeat", "split", "array_split", "vsplit", "hsplit", "tril", "triu",
             "diag", "diagonal", "trace", "ravel", "swapaxes", "moveaxis", "astype", "vstack", "hstack", "dot",
             "tensordot", "einsum", "outer", "inner", "kron", "inv", "solve", "det", "slogdet", "cholesky", "eigh",
             "svd"]
    for name in names:
        assert callable(getattr(tg, name)), name
    for method in ["flip", "roll", "tile", "tril", "triu", "diag", "diagonal", "trace", "ravel", "swapaxes",
                   "moveaxis", "astype", "dot", "inner", "outer", "kron", "det", "slogdet", "inverse", "cholesky"]:
        assert callable(getattr(Value, method)), method
    a = Value([[2.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(a.inverse().data, np.linalg.inv(a.data), rtol=1e-15)
    assert a.det().data == pytest.approx(5.0)
    assert a.trace().data == 5.0
    np.testing.assert_array_equal(a.roll(1, axis=0).data, np.roll(a.data, 1, axis=0))
