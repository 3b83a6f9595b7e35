"""Section 2-11: gradient descent on z = x^2 + y^2, the book's table, with the engine's gradients.

Start at (x, y) = (3, 2) and take 30 steps of (Δx, Δy) = -η (∂z/∂x, ∂z/∂y) with learning rate η = 0.1.
The gradient at each point is not typed in as 2x, 2y: z is built from two Values and `z.backward()`
finds ∂z/∂x and ∂z/∂y.

What you should see: the book's table, i, x_i, y_i, ∂z/∂x, ∂z/∂y, Δx, Δy, z. Since the gradient here is
(2x, 2y), every step multiplies both coordinates by 1 - 2η = 0.8, so the point slides straight down
towards the minimum (0, 0) and z shrinks by 0.64 per step: from 13 to about 13 * 0.64^30 ≈ 1.9e-5.

Run:  python examples/ch2_11_gradient_descent.py [--steps 30] [--lr 0.1] [--x0 3] [--y0 2]
"""

from __future__ import annotations

import argparse

from tinygrad_nn import Value


def z_of(x, y):
    """The function to minimise; works on plain floats and on Values alike."""
    return x**2 + y**2


def gradient_descent(x0=3.0, y0=2.0, lr=0.1, steps=30):
    """Rows (i, x_i, y_i, ∂z/∂x, ∂z/∂y, Δx, Δy, z_i), as in the book's table, for i = 0..steps - 1,
    followed by the final point (i = steps) whose gradient columns are left as None."""
    rows = []
    x, y = float(x0), float(y0)
    for i in range(steps):
        # Fresh leaves for this point: the graph of z is built, differentiated, then dropped.
        xv, yv = Value(x), Value(y)
        z = z_of(xv, yv)
        z.backward()
        dzdx, dzdy = xv.grad, yv.grad
        dx, dy = -lr * dzdx, -lr * dzdy  # step against the gradient, the direction of steepest descent
        rows.append((i, x, y, dzdx, dzdy, dx, dy, z.item()))
        x, y = x + dx, y + dy
    rows.append((steps, x, y, None, None, None, None, z_of(x, y)))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30, help="number of steps (default 30, as in the book)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate η (default 0.1)")
    parser.add_argument("--x0", type=float, default=3.0, help="starting x (default 3)")
    parser.add_argument("--y0", type=float, default=2.0, help="starting y (default 2)")
    args = parser.parse_args(argv)

    rows = gradient_descent(args.x0, args.y0, args.lr, args.steps)
    print(f"Section 2-11: gradient descent on z = x^2 + y^2 from ({args.x0:g}, {args.y0:g}), η = {args.lr:g}")
    print(f"{'i':>3} {'x_i':>10} {'y_i':>10} {'∂z/∂x':>10} {'∂z/∂y':>10} {'Δx':>10} {'Δy':>10} {'z':>11}")
    for i, x, y, gx, gy, dx, dy, z in rows:
        if gx is None:
            print(f"{i:>3} {x:10.6f} {y:10.6f} {'':>10} {'':>10} {'':>10} {'':>10} {z:11.4e}")
        else:
            print(f"{i:>3} {x:10.6f} {y:10.6f} {gx:10.6f} {gy:10.6f} {dx:10.6f} {dy:10.6f} {z:11.4e}")
    last = rows[-1]
    print(f"\nafter {args.steps} steps: (x, y) = ({last[1]:.6g}, {last[2]:.6g}), z = {last[7]:.3g}; "
          f"the minimum is z = 0 at (0, 0)")
    return rows


if __name__ == "__main__":
    main()
