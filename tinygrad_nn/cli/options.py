"""Argument types and the checks every command makes before it trains, so that a bad argument costs no
training run and is one line on stderr (argparse's usage error, exit status 2).

>>> positive_int_arg("3")
3
>>> pixels_arg("010 101 101 110")   # the spaced form the program prints
'010101101110'
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import re
import tempfile


class Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line on stderr (exit status 2): what is wrong and where help is."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# Argument types: argparse turns their ArgumentTypeError into a usage error naming the option.
def seed_arg(text):
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text}")
    return value


def positive_int_arg(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def positive_float_arg(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


# Twelve 0/1 digits, either run together or as the program prints them: four rows of three, spaced.
_PIXELS = re.compile(r"[01]{12}|[01]{3}(?:\s+[01]{3}){3}")


def pixels_arg(text):
    """A 4x3 image as twelve 0/1 digits row by row ('010101101110' or '010 101 101 110'), run together."""
    if not _PIXELS.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"must be exactly 12 digits 0 or 1 (the 4x3 image row by row, e.g. "
                                         f"010101101110 or '010 101 101 110' for the book's 0 with a gap), "
                                         f"got {text!r}")
    return "".join(text.split())


def add_training_options(parser, default_steps):
    """The options every training command shares (`book`, `cnn`)."""
    parser.add_argument("--seed", type=seed_arg, default=0, help="seed of the initial weights (default 0)")
    parser.add_argument("--steps", type=positive_int_arg, default=default_steps,
                        help=f"gradient-descent steps (default {default_steps})")
    parser.add_argument("--lr", type=positive_float_arg, default=None,
                        help="learning rate (default 0.2 for sgd, the book's eta; 0.05 for adam)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd", help="update rule (default sgd)")
    parser.add_argument("--onnx", default=None, metavar="FILE",
                        help="also write the trained network as an ONNX model to FILE (needs the onnx extra)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="folder for the PNG figures (the cost curve, what the units learned); needs matplotlib")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (it is drawn on stderr, and only when stderr is a terminal)")


def check_out_dir(parser, out, names=(), option="--out"):
    """A usage error unless `out` is a folder that exists and is writable, or can be made (its nearest
    existing ancestor is a writable folder), and none of the files `names` to be written there is a folder.
    Checked before training, so a bad path costs no training run."""
    if out is None:
        return
    if os.path.exists(out) and not os.path.isdir(out):
        parser.error(f"{option} {out}: is an existing file, not a folder; name a folder for the figures")
    for name in names:
        target = os.path.join(out, name)
        if os.path.isdir(target):
            parser.error(f"{option} {out}: {target} is a folder, where the figure {name} goes; move it away or "
                         f"name another folder")
    probe = os.path.abspath(out)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        parser.error(f"{option} {out}: cannot be made, because {probe} is a file, not a folder")
    if not _writable(probe):
        parser.error(f"{option} {out}: cannot write into {probe} (permission denied or read-only)")


def check_save_file(parser, path, option="--save"):
    """A usage error unless `path` can be written: not a folder, in a folder that exists and is writable."""
    if path is None:
        return
    if os.path.isdir(path):
        parser.error(f"{option} {path}: is a folder; name a file, e.g. {os.path.join(path, 'model.npz')}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        parser.error(f"{option} {path}: the folder {folder} does not exist")
    if not _writable(folder):
        parser.error(f"{option} {path}: cannot write into {folder} (permission denied or read-only)")


def check_onnx_file(parser, path):
    """A usage error unless `path` can be written and the onnx package is there to write it."""
    check_save_file(parser, path, option="--onnx")
    if path is not None and importlib.util.find_spec("onnx") is None:
        parser.error(f"--onnx {path}: needs the onnx package: pip install \"tinygrad_nn[onnx]\"")


def _writable(folder) -> bool:
    # os.access answers for the real user and knows nothing of read-only mounts; creating a file is the test.
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError:
        return False
    return True
