"""Section 1-5's demons: the 12-3-2 network's weights set by hand, as the book explains its hidden layer.

On the 4 x 3 grid (pixels numbered 1..12 row by row)

     1  2  3
     4  5  6        hidden demon A is fond of pixels 4 and 7 (the left of the middle rows),
     7  8  9        B of 5 and 8 (the middle column), C of 6 and 9 (the right);
    10 11 12        output demon "0" is fond of A and C, output demon "1" of B.

>>> state = hand_set_demons()
>>> sorted(state), state["0.weight"].shape
(['0.bias', '0.weight', '2.bias', '2.weight'], (3, 12))
"""

from __future__ import annotations

import numpy as np

DEMONS = "ABC"
LIKED_PIXELS = {"A": (4, 7), "B": (5, 8), "C": (6, 9)}  # book numbering, 1..12

# How strongly a demon reacts. A liked pixel adds +10 to z; the bias -15 means one liked pixel alone
# (z = -5, a(z) = 0.007) is ignored as noise and the unit fires only when both are inked (z = +5, 0.993).
LIKE = 10.0
HIDDEN_BIAS = -1.5 * LIKE

# Output "0" likes A and C (either side of a 0's loop is enough: bias -5 lets one fire it), and dislikes B:
# a 0 has a hole in the middle, so an inked middle column speaks against it. Output "1" likes B only
# and ignores A and C (weight zero): a thick 1 may ink a side pixel pair too.
OUTPUT_WEIGHTS = np.array([[LIKE, -LIKE, LIKE],   # demon "0" <- A, B, C
                           [0.0, LIKE, 0.0]])     # demon "1" <- A, B, C
OUTPUT_BIAS = np.array([-0.5 * LIKE, -0.5 * LIKE])
OUTPUT_WEIGHTS.flags.writeable = OUTPUT_BIAS.flags.writeable = False


def demon_patterns() -> np.ndarray:
    """The hidden weights of the hand-set network, shape (3, 12): +LIKE on the liked pixels, 0 elsewhere.

    >>> [list(map(int, row.nonzero()[0] + 1)) for row in demon_patterns()]    # pixels numbered 1..12
    [[4, 7], [5, 8], [6, 9]]
    """
    w = np.zeros((3, 12))
    for j, name in enumerate(DEMONS):
        for pixel in LIKED_PIXELS[name]:
            w[j, pixel - 1] = LIKE
    return w


def hand_set_demons() -> dict[str, np.ndarray]:
    """The state_dict of `MLP(12, [3, 2])` (sigmoid everywhere) with the demons' likings written in by hand:
    load it with `net.load_state_dict(hand_set_demons())`.

    >>> from tinygrad_nn.nn import MLP
    >>> net = MLP(12, [3, 2])
    >>> _ = net.load_state_dict(hand_set_demons())
    >>> net([0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0]).data.round(3).tolist()  # the book's test image: a 0
    [1.0, 0.007]
    """
    return {
        "0.weight": demon_patterns(),
        "0.bias": np.full(3, HIDDEN_BIAS),
        "2.weight": OUTPUT_WEIGHTS.copy(),
        "2.bias": OUTPUT_BIAS.copy(),
    }
