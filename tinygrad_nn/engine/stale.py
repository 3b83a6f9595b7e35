"""Stale graphs: a leaf changed in place (an optimizer's step, load_state_dict, `w -= ...` under no_grad) after a
graph that uses it was built. Its gradients would be those of the old values applied to the new ones, so the
backward pass refuses the graph and names what changed the leaf.

Every node has a creation number (`_id`, from modes.next_id); a change in place gives the leaf a new one, so that
a node built from it before now looks older than its input.
"""

from __future__ import annotations

import os
import threading
import weakref

from .modes import next_id

_last_change = 0  # the creation number current at the latest in-place change of any leaf
_changed_by = {}  # number taken by an in-place change -> what made it (an optimizer's step...): the latest 64
_changes_lock = threading.RLock()  # re-entrant: a detach alias freed mid-change drops out under it


def mark_changed(leaves, by):
    """Record that the payloads of `leaves` were just changed in place by `by` (an optimizer's step,
    load_state_dict, an in-place update): a graph built before now that uses them can no longer be
    back-propagated. Cheap (one stamp per leaf), so optimizers call it every step."""
    global _last_change
    with _changes_lock:
        stamp = next_id()
        for leaf in leaves:
            leaf._id = stamp  # as if made now: a node built from it earlier now looks older than its input
            if _detached:
                for ref in tuple(_detached.get(id(leaf.data), ())):
                    alias = ref()
                    if alias is not None and alias.data is leaf.data:
                        alias._id = stamp
        _last_change = stamp
        _changed_by[stamp] = by
        if len(_changed_by) > 64:
            del _changed_by[next(iter(_changed_by))]  # the oldest


# Values that hold one payload array through detach(), by the array's id: an in-place change of one is a change
# of all (PyTorch shares the version counter through detach). Each holds a weak reference, so the group follows
# its members; a member whose payload was replaced since (`v.data = ...`) is no longer stamped.
_detached = {}


def share_changes(base, alias):
    """Record that `alias` (a detach() of `base`) holds base's payload array: they change together."""
    key = id(base.data)

    def forget(ref):
        with _changes_lock:
            group = _detached.get(key)
            if group is not None:
                group[:] = [r for r in group if r is not ref and r() is not None]
                if len(group) < 2:
                    del _detached[key]

    with _changes_lock:
        group = _detached.setdefault(key, [])
        if not any(r() is base for r in group):
            group.append(weakref.ref(base, forget))
        group.append(weakref.ref(alias, forget))


def check_stale(order):
    """Refuse a pass over `order` (its op nodes, latest first) if a leaf changed in place after the graph was
    built from it. One comparison unless something changed since the oldest node was made."""
    if not order or _last_change <= order[-1]._id:
        return
    for node in order:
        for p in node._prev:
            if p._op is None and p._id > node._id:
                what = f"{p.name!r}" if p.name else f"a leaf of shape {p.shape}"
                by = _changed_by.get(p._id, "an in-place change")
                raise RuntimeError(
                    f"backward: {what} was changed in place by {by} after this graph was built from it, so "
                    f"its gradients would be those of the old values applied to the new ones; build the "
                    f"graph again after the change (e.g. call the model again after optimizer.step())")


def _renew_lock_after_fork():
    # In a forked child only the forking thread lives on: a lock another thread held at the fork would stay held.
    global _changes_lock
    _changes_lock = threading.RLock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_lock_after_fork)
