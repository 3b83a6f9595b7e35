"""The command line: `tinygrad-nn` (or `python -m tinygrad_nn`) with the commands `book`, `cnn` and `read`.

Imports flow one way, from the parser down to the shared pieces:

    main.py            the parser and the dispatch: one sub-parser per command
      book.py          `book`: the book's 12-3-2 network on its 64 4x3 images
      cnn.py           `cnn`: the book's chapter 5 convolutional network on its 96 6x6 images
      read.py          `read`: a 4x3 image read by a network that `book --save` wrote
        train_loop.py  the training loop both `book` and `cnn` run (one `step` function, hooks per step)
        progress.py    the progress bar (on stderr, and only when stderr is a terminal)
        figures.py     the PNG figures of a run, written all or none
        options.py     argument types and the checks made before any training

A new command is a module with `add_parser(subparsers)` and `run(parser, args)`, listed in `main.COMMANDS`.
"""

from .main import build_parser, main

__all__ = ["build_parser", "main"]
