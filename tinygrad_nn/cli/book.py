"""`tinygrad-nn book`: the book's 12-3-2 sigmoid network learns to tell a handwritten 0 from a 1.

It trains on the book's 64 4x3 images by gradient descent on C_T, the squared error summed over the images;
then it reads the book's test image (a 0 drawn with a gap) and shows what its three hidden units learned.
`book --save FILE` keeps the trained network, for `tinygrad-nn read FILE 010101101110`.
"""

from __future__ import annotations

from .. import save, viz
from ..data import load_digits_4x3, render_image
from ..nn import MLP, squared_error
from .figures import figures_wanted, write_figures
from .options import add_training_options, check_onnx_file, check_out_dir, check_save_file
from .read import TEST_IMAGE_ROWS, read_image
from .train_loop import report, train_command

FIGURES = ("cost_curve.png", "hidden_weights.png", "step_vs_sigmoid.png")


def add_parser(subparsers):
    book = subparsers.add_parser(
        "book",
        help="train the book's 12-3-2 network on its 64 images of 0 and 1",
        description="Train the book's 12-3-2 sigmoid network (12 pixels in, 3 hidden units, 2 outputs) on its "
                    "64 4x3 images of 0 and 1 by full-batch gradient descent on C_T = sum over images of "
                    "1/2 sum_k (t_k - a_k)^2, then classify the book's test image and show the hidden units.",
    )
    add_training_options(book, default_steps=2000)
    book.add_argument("--save", default=None, metavar="FILE",
                      help="write the trained network to FILE (.npz; read it with tinygrad-nn read FILE PIXELS)")
    return book


def run(parser, args) -> int:
    check_out_dir(parser, args.out, FIGURES)
    check_save_file(parser, args.save)
    check_onnx_file(parser, args.onnx)
    data = load_digits_4x3()
    net = MLP(12, [3, 2], activation="sigmoid", seed=args.seed)
    run_ = train_command(args, net, data.inputs, data.targets, title="The book's network")

    predicted = net(data.inputs).data.argmax(axis=1)
    final = squared_error(net(data.inputs), data.targets).item()
    report(run_, final, predicted, data.digits, data.ids)

    print(f"\nThe book's test image {TEST_IMAGE_ROWS!r} (a 0 drawn with a gap):")
    read_image(net, TEST_IMAGE_ROWS)

    hidden = net.layers[0].weight.data
    print("\nWhat the hidden units learned (their 12 weights as 4x3 maps; darker = more positive):")
    maps = [render_image(w.reshape(4, 3)).splitlines() for w in hidden]
    print("   " + "   ".join(f"unit {j + 1}" for j in range(len(maps))))
    for row in zip(*maps):
        print("   " + "   ".join(f"{r:<6}" for r in row))
    print("  weights (rows of the map, one unit per block):")
    for j, w in enumerate(hidden):
        print(f"  unit {j + 1}: " + " | ".join(" ".join(f"{v:+5.1f}" for v in r) for r in w.reshape(4, 3)))

    if args.save is not None:
        save(net.state_dict(), args.save)
        print(f"\nThe trained network is saved in {args.save}; read a 4x3 image with it:")
        print(f"  tinygrad-nn read {args.save} 010101101110")
    _figures(args.out, run_.costs, hidden)
    return 0


def _figures(out, costs, hidden):
    if figures_wanted(out, "the cost curve, weight maps and step-vs-sigmoid PNGs"):
        cost, weights, sigmoid = FIGURES
        write_figures(out, [
            (cost, lambda path: viz.plot_cost_curve(costs, path)),
            (weights, lambda path: viz.plot_weight_maps(hidden, path, titles=[f"hidden unit {j + 1}"
                                                                              for j in range(len(hidden))])),
            (sigmoid, viz.plot_step_vs_sigmoid),
        ])

