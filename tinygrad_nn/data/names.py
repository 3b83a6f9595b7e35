"""A list of given names for the character-level models (examples/char_gpt.py, microgpt_scalar.py, char_rnn.py),
in the spirit of makemore's names.txt but small enough to ship: 1,222 common given names from many languages,
lower-case a-z, one per line. The list was written for this project (a name is a fact, not a work; the file is
public domain, CC0), so it needs no network and no licence beyond the package's.

>>> from tinygrad_nn.data import load_names
>>> names = load_names()
>>> len(names), names[:3]
(1222, ['emma', 'olivia', 'ava'])
>>> sorted(set("".join(names))) == [chr(c) for c in range(ord("a"), ord("z") + 1)]
True
"""

from __future__ import annotations

from importlib import resources

__all__ = ["load_names"]


def load_names() -> list[str]:
    """The names, in the file's order (shuffle them yourself, with a seed).

    >>> names = load_names()
    >>> max(len(n) for n in names) <= 15, all(n.isalpha() and n.islower() for n in names)
    (True, True)
    """
    text = resources.files(__package__).joinpath("names.txt").read_text(encoding="ascii")
    return [line.strip() for line in text.splitlines() if line.strip()]
