"""Fit a sum of sines with `sin` and `einsum`, then check the Hessian of the cost against finite differences.

The model is y(x) = sum_k a_k sin(w_k x + c_k): three waves, nine parameters in one vector p = (a, w, c). The
features sin(w_k x_n + c_k) are an (N, 3) matrix and the prediction is the einsum "nk,k->n" of it with the
amplitudes. The cost is the book's least squares, C = 1/2 sum_n (y_n - t_n)^2, minimised by Adam.

At the fitted parameters the example takes the 9 x 9 Hessian of C with `tinygrad_nn.hessian` (reverse mode
over reverse mode: the gradient's own graph is differentiated again), and compares it with central
differences of the gradient, column by column. The Hessian of a least-squares fit is also checked against
its Gauss-Newton part JᵀJ (with J the Jacobian of the predictions, from `jacobian`): the two differ by the
residuals times the model's second derivatives, which are small once the fit is good.

    python examples/fit_sin_einsum.py [--steps 3000] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

from tinygrad_nn import Value, einsum, grad, hessian, jacobian, sin
from tinygrad_nn.optim import Adam


def make_data(n=40):
    x = np.linspace(-3.0, 3.0, n)
    t = 0.8 * np.sin(1.3 * x + 0.2) - 0.5 * np.sin(2.9 * x - 1.0) + 0.3 * np.sin(0.5 * x + 0.7)
    return x, t


def predict(p, x):
    """sum_k a_k sin(w_k x + c_k) for every x, with p = (a_1..a_3, w_1..w_3, c_1..c_3)."""
    a, w, c = p[0:3], p[3:6], p[6:9]
    features = sin(einsum("n,k->nk", x, w) + c)  # (N, 3): sin(w_k x_n + c_k)
    return einsum("nk,k->n", features, a)


def cost(p, x, t):
    r = predict(p, x) - t
    return (r * r).sum() * 0.5  # C = 1/2 sum_n (y_n - t_n)^2


def fit(x, t, steps, seed):
    rng = np.random.default_rng(seed)
    p = Value(np.concatenate([rng.uniform(-1, 1, 3), [1.0, 2.0, 0.6], rng.uniform(-1, 1, 3)]))
    opt = Adam([p], lr=0.02)
    history = []
    for _ in range(steps):
        opt.zero_grad()
        c = cost(p, x, t)
        c.backward()
        opt.step()
        history.append(c.item())
    return p.data.copy(), history


def finite_difference_hessian(f_grad, p, eps=1e-5):
    """Column j: (grad(p + eps e_j) - grad(p - eps e_j)) / (2 eps)."""
    cols = []
    for j in range(p.size):
        e = np.zeros_like(p)
        e[j] = eps
        cols.append((f_grad(p + e) - f_grad(p - e)) / (2 * eps))
    return np.stack(cols, axis=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000, help="Adam steps (default 3000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the starting amplitudes and phases")
    args = parser.parse_args(argv)

    x, t = make_data()
    p, history = fit(x, t, args.steps, args.seed)
    print(f"Fit y = sum_k a_k sin(w_k x + c_k) to {len(x)} points by Adam: C {history[0]:.4f} -> {history[-1]:.6f} "
          f"in {args.steps} steps")
    print("  a =", np.array2string(p[0:3], precision=3), " w =", np.array2string(p[3:6], precision=3),
          " c =", np.array2string(p[6:9], precision=3))

    f = lambda q: cost(q, x, t)
    H = hessian(f)(p)
    H_fd = finite_difference_hessian(grad(f), p)
    err = np.max(np.abs(H - H_fd)) / np.max(np.abs(H))
    print(f"\nHessian of C at the fit, {H.shape[0]} x {H.shape[1]}: symmetric to {np.max(np.abs(H - H.T)):.1e}")
    print(f"  against central differences of the gradient: max |H - H_fd| / max |H| = {err:.1e}")
    J = jacobian(lambda q: predict(q, x))(p)
    gn = J.T @ J
    print(f"  against the Gauss-Newton part J^T J: max |H - J^T J| / max |H| = "
          f"{np.max(np.abs(H - gn)) / np.max(np.abs(H)):.1e} (small residuals, small difference)")
    eig = np.linalg.eigvalsh(H)
    print(f"  eigenvalues from {eig[0]:.3g} to {eig[-1]:.3g}: "
          f"{'a minimum' if eig[0] > 0 else 'not a minimum yet'}")
    if err > 1e-6:
        print("FAILED: the Hessian disagrees with finite differences")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
