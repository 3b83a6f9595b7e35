"""The parser of `tinygrad-nn` and the dispatch to its commands.

>>> "book" in build_parser().format_help()
True
"""

from __future__ import annotations

import os
import sys

from . import book, cnn, read
from .options import Parser

# The commands in the order `tinygrad-nn --help` lists them: each module has add_parser(subparsers) and
# run(parser, args).
COMMANDS = {"book": book, "read": read, "cnn": cnn}


def build_parser():
    """The argument parser; `parser.commands` maps each command's name to its sub-parser."""
    p = Parser(prog="tinygrad-nn", description="tinygrad_nn: the book's neural network, end to end.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    p.commands = {name: module.add_parser(sub) for name, module in COMMANDS.items()}
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0 if argv is not None and not argv else 2
    command = parser.commands[args.command]
    try:
        return COMMANDS[args.command].run(command, args)
    except BrokenPipeError:
        # The reader went away (`tinygrad-nn book | head`): stop quietly, as the shell's own tools do. stdout
        # points at nothing from here on, so that the interpreter's last flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):  # a stdout without a file descriptor (a test's capture)
            pass
        finally:
            os.close(devnull)
        return 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader left
    except OSError as e:
        # A file could not be written after training (a figure, the model): one line, no traceback.
        print(f"{command.prog}: error: {e}", file=sys.stderr)
        return 1
