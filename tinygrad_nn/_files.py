"""Writing files safely: a temporary file beside the target, with the permissions the umask gives, renamed
over the target only when it is complete (used by tinygrad_nn.save and viz.save_figure)."""

from __future__ import annotations

import contextlib
import os
import tempfile


def umask() -> int:
    """The process's umask (the permission bits new files do not get)."""
    # os.umask can only be read by setting it; for the instant in between, a stricter mask than any real
    # one (0o077), so that a file another thread creates meanwhile is never more open than it should be.
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def temp_file_beside(path, suffix=".tmp") -> str:
    """A new empty temporary file in the folder of `path` (so that os.replace onto `path` is atomic), with the
    permissions an ordinary new file gets under the umask (mkstemp alone gives 0600). Returns its name."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=suffix, dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~umask())
    except (AttributeError, OSError):  # no fchmod (Windows): the file keeps mkstemp's permissions
        pass
    finally:
        os.close(fd)
    return tmp


def fsync_folder(folder):
    """Make a rename in `folder` durable (POSIX; elsewhere nothing to do)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
