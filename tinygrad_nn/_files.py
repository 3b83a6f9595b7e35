"""Writing files safely: a temporary file beside the target, with the permissions the umask gives, renamed
over the target only when it is complete (used by tinygrad_nn.save and viz.save_figure). A symbolic link is
written through, as np.save and torch.save write through it: its target is replaced, the link stays."""

from __future__ import annotations

import contextlib
import errno
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
    # The temporary name starts with the target's, cut so that it fits where the target's own name fits
    # (mkstemp adds 8 characters): a valid name of 242-255 bytes must not make the write fail.
    base = os.fsencode(os.path.basename(path))
    room = _name_max(folder) - len(os.fsencode(suffix)) - 2 - 8
    prefix = "." + os.fsdecode(base[:max(room, 1)]) + "."
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~umask())
    except (AttributeError, OSError):  # no fchmod (Windows): the file keeps mkstemp's permissions
        pass
    finally:
        os.close(fd)
    return tmp


def _name_max(folder) -> int:
    """The longest file name, in bytes, that the file system of `folder` takes (255 where it does not say)."""
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        return 255


def write_target(path) -> str:
    """The file that writing to `path` replaces: where a symbolic link at `path` leads (as open() and np.save
    follow it), so that the link stays a link; else `path` itself.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> os.symlink("real.npz", os.path.join(folder, "link.npz"))
    >>> os.path.basename(write_target(os.path.join(folder, "link.npz")))
    'real.npz'
    """
    if not os.path.islink(path):
        return path
    target = os.path.realpath(path)
    if os.path.islink(target):  # a loop of links: open() would fail the same way
        raise OSError(errno.ELOOP, "Too many levels of symbolic links", path)
    return target


@contextlib.contextmanager
def replacing(path):
    """Write a file all or nothing: yields a binary file open on a temporary file beside `path` (beside a
    link's target, for a link); once the block ends without error it is flushed to disk and renamed over
    the target, and on any error it is removed and the target is left as it was.

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "out.bin")
    >>> with replacing(path) as f:
    ...     _ = f.write(b"whole")
    >>> open(path, "rb").read()
    b'whole'
    """
    target = write_target(os.fspath(path))
    folder = os.path.dirname(os.path.abspath(target))
    tmp = temp_file_beside(target)
    try:
        with open(tmp, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        tmp = None
        fsync_folder(folder)
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)


def fsync_folder(folder):
    """Make a rename in `folder` durable (POSIX; elsewhere nothing to do)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
