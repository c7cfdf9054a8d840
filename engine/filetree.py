"""Merged and per-layer file trees of an image, answered lazily and in pages.

An :class:`ImageTree` takes an image's layer indexes (bottom first) and works
out, once, the filesystem each layer leaves behind, the way an OCI runtime
applies the layers (umoci is the reference): whiteouts and opaque directories
first hide what the layers below hold, then the layer's entries are laid
down; a non-directory replacing a directory takes the directory's subtree with
it; a missing parent directory is created implicitly.

Nothing is kept per node as a Python object.  Every path any layer mentions
gets a number in one sorted *universe* (tree order, so each directory's
subtree is a contiguous run right after it), and each layer's resulting state
is two byte strings over that universe: which layer provides each path
(``owner``) and its type (``kind``).  Sizes are prefix sums, so a directory's
cumulative size is one subtraction.

A :class:`TreeView` answers the questions of one screen: the tree as of layer
N compared with the state below it (dive's default), the merged image, or
only what some layers changed, filtered by change status and limited to a
path prefix.  Only the nodes a caller asks for become :class:`Node` records.
"""

from __future__ import annotations

import re
import threading
from array import array
from bisect import bisect_left
from collections import Counter, OrderedDict, deque, namedtuple
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate, chain, compress, islice, repeat
from operator import add, itemgetter, ne

from engine.errors import NotFound, StrataError, Unsupported
from engine.tarindex import (
    DIR,
    HARDLINK,
    SYMLINK,
    TYPE_NAMES,
    Entry,
    LayerIndex,
    normalize_path,
    tree_key,
    tree_keys,
)

__all__ = [
    "STATUSES",
    "ImageTree",
    "Node",
    "Resolved",
    "TreeView",
]

#: Change statuses, by code (code 0: the path is not in the view).
STATUS_NAMES = ("", "unchanged", "added", "modified", "removed")
STATUSES = frozenset(STATUS_NAMES[1:])
ABSENT, UNCHANGED, ADDED, MODIFIED, REMOVED = range(5)

Node = namedtuple(
    "Node", "name path type mode uid gid size linkname status child_count layer"
)
Node.__doc__ = """One file or directory as a view shows it.

``size`` is cumulative for directories; ``layer`` is the index of the layer
that last changed the path (for a removed path: the layer that removed it);
``child_count`` counts the children the view shows.
"""

Resolved = namedtuple("Resolved", "layer path member entry")
Resolved.__doc__ = """Where the image gets a file from.

``layer`` is the index of the layer whose blob holds the data, ``path`` the
path after following symbolic links, ``member`` the tar member that carries
the bytes (the link target for a hard link) and ``entry`` the path's
:class:`~engine.tarindex.Entry` (None for an implicit directory).
"""

# Attributes of a directory no layer describes (created implicitly for its children).
_IMPLICIT_DIR = (DIR, 0o755, 0, 0, 0, 0, "", 0, 0)
_MAX_LAYERS = 254  # owners are stored in one byte: layer index + 1
_MAX_SYMLINKS = 40
_SIZE_BUDGET = 32_000_000  # paths x layers for which per-state size arrays are kept (8 bytes each)
_CACHED_LISTINGS = 64


def _table(pairs: dict[int, int]) -> bytes:
    """A 256-byte translation table mapping the given bytes, everything else to 0."""
    table = bytearray(256)
    for src, dst in pairs.items():
        table[src] = dst
    return bytes(table)


_NONZERO = bytes([0] + [1] * 255)
# code = (owners differ) << 2 | (present in T) << 1 | (present in B)
_CODE_TO_STATUS = _table({3: UNCHANGED, 7: MODIFIED, 6: ADDED, 5: REMOVED})
_IS_DIR = _table({DIR: 1})
_NOT_DIR = bytes(0 if b in (0, DIR) else 1 for b in range(256))
_IS_MODIFIED = _table({MODIFIED: 1})
_IS_UNCHANGED = _table({UNCHANGED: 1})
_IS_REMOVED = _table({REMOVED: 1})
_IS_CHANGE = _table({ADDED: 1, MODIFIED: 1, REMOVED: 1})
_ONES = re.compile(b"\x01")


def _and(a: bytes, b: bytes) -> bytes:
    """Byte-wise AND of two equally long 0/1 byte strings."""
    n = len(a)
    return (int.from_bytes(a, "little") & int.from_bytes(b, "little")).to_bytes(n, "little")


def _or(a: bytes, b: bytes) -> bytes:
    n = len(a)
    return (int.from_bytes(a, "little") | int.from_bytes(b, "little")).to_bytes(n, "little")


def _positions(flags: bytes) -> Iterator[int]:
    """Indexes of the 1 bytes of a 0/1 byte string."""
    return (m.start() for m in _ONES.finditer(flags))


def _consume(iterator) -> None:
    """Run a C-level ``map`` for its side effects."""
    deque(iterator, maxlen=0)


def _prefix_sums(values) -> array:
    return array("q", accumulate(values, initial=0))


def _gather(items: list, order: list[int]) -> list:
    if len(order) < 2:
        return [items[i] for i in order]
    return list(itemgetter(*order)(items))


def _insert_keys(
    keys: list[str], paths: list[str], gid_of: array, extra: list[str]
) -> tuple[list[str], list[str], array]:
    """Merge sorted *extra* keys into the sorted universe, renumbering *gid_of*."""
    spots = [bisect_left(keys, key) for key in extra]
    new_keys: list[str] = []
    new_paths: list[str] = []
    shift = array("i", bytes(4 * (len(keys) + 1)))
    last = 0
    for spot, key in zip(spots, extra):
        new_keys += keys[last:spot]
        new_paths += paths[last:spot]
        new_keys.append(key)
        new_paths.append(key.replace("\0", "/"))
        shift[spot] += 1
        last = spot
    new_keys += keys[last:]
    new_paths += paths[last:]
    moved = array("i", accumulate(shift))  # old index -> how many keys went before it
    gid_of = array("i", map(add, gid_of, map(moved.__getitem__, gid_of)))
    return new_keys, new_paths, gid_of


def _norm(path: str) -> str:
    return normalize_path(path) if path else ""


class ImageTree:
    """The filesystem states of an image's layers (bottom first), built once.

    Layer *k*'s state is the image as it stands after applying layers
    0..k.  ``ImageTree`` answers bulk questions (:meth:`flatten`,
    :meth:`resolve`, :meth:`view`); :class:`TreeView` answers a screen's.
    An ``ImageTree`` may be shared between threads; a ``TreeView`` may not.
    """

    def __init__(self, layers: Sequence[LayerIndex]) -> None:
        layers = list(layers)
        if len(layers) > _MAX_LAYERS:
            raise Unsupported(
                f"building file tree: {len(layers)} layers, at most {_MAX_LAYERS} are supported"
            )
        self.layers = layers
        self._build_universe()
        self._build_states()
        self._size_cache: dict[tuple, array] = {}
        self._rowmaps: dict[int, array] = {}
        self._lock = threading.Lock()  # guards the two lazy caches above

    # -- construction -------------------------------------------------------

    def _build_universe(self) -> None:
        """Number every path of every layer (plus implicit parents) in tree order.

        Works with sorts and C-level passes over whole lists rather than a
        Python step per path wherever it can: this is the costly part.  The
        universe keeps the layers' own path strings (no copies).
        """
        lengths = [len(ix.paths) for ix in self.layers]
        all_keys = tree_keys([p for ix in self.layers for p in ix.paths])
        order = sorted(range(len(all_keys)), key=all_keys.__getitem__)  # stable argsort
        ordered = _gather(all_keys, order)
        first = bytes(map(ne, ordered, chain((None,), ordered)))  # 1 where a new key starts
        keys = list(compress(ordered, first))
        del ordered, all_keys
        paths = list(compress(_gather([p for ix in self.layers for p in ix.paths], order), first))
        gid_of = array("i", bytes(4 * len(order)))
        _consume(map(gid_of.__setitem__, order, islice(accumulate(first, initial=-1), 1, None)))
        del order, first

        # Parents no layer lists become implicit directories.
        parents = {key.rpartition("\0")[0] for key in keys}
        parents.discard("")
        missing = set()
        listed = set()  # listed ancestors of missing parents: they get children too
        for d in parents:
            while d and d not in missing:
                i = bisect_left(keys, d)
                if i < len(keys) and keys[i] == d:
                    listed.add(d)
                    break
                missing.add(d)
                d = d.rpartition("\0")[0]
        if missing:
            keys, paths, gid_of = _insert_keys(keys, paths, gid_of, sorted(missing))
            parents |= missing | listed

        # Parent of each path: the last path one level up before it (pre-order).
        n = len(keys)
        parent = array("i", bytes(4 * n))
        last = [-1] * (max(map(str.count, keys, repeat("\0")), default=0) + 2)
        for i, depth in enumerate(map(str.count, keys, repeat("\0"))):
            parent[i] = last[depth]
            last[depth + 1] = i
        end = array("i", range(1, n + 1))
        for d in parents:
            i = bisect_left(keys, d)
            end[i] = bisect_left(keys, d + "\x01", i)
        gids = []
        offset = 0
        for length in lengths:
            gids.append(gid_of[offset : offset + length])
            offset += length

        self._paths = paths
        self._parent = parent
        self._end = end
        self._gids = gids
        self.size = n

    def _build_states(self) -> None:
        """Apply the layers in order, keeping each state's owner and kind bytes.

        File sizes per state are kept too while they fit a memory budget
        (:data:`_SIZE_BUDGET` values); otherwise :meth:`sizes` gathers them.
        """
        n = self.size
        end = self._end
        parent = self._parent
        owner = bytearray(n)
        kind = bytearray(n)
        keep_sizes = n * len(self.layers) <= _SIZE_BUDGET
        size = array("q", bytes(8 * n)) if keep_sizes else None
        self._owners: list[bytes] = []
        self._kinds: list[bytes] = []
        self._state_sizes: list[array] = []
        self._files: list[tuple[array, array]] = []  # (universe index, size) of sized files

        def clear(lo: int, hi: int) -> None:
            if hi > lo:
                owner[lo:hi] = kind[lo:hi] = bytes(hi - lo)
                if size is not None:
                    size[lo:hi] = array("q", bytes(8 * (hi - lo)))

        for k, ix in enumerate(self.layers):
            tag = k + 1
            owner = bytearray(owner)
            kind = bytearray(kind)
            if size is not None:
                size = array("q", size)
            # Whiteouts and opaque directories hide what the layers below hold.
            for path in ix.whiteouts:
                g = self.index_of(path)
                if g >= 0 and kind[g]:
                    clear(g, end[g])
            for path in ix.opaque_dirs:
                g = self.index_of(path) if path else -1
                if path and g < 0:
                    continue
                clear(g + 1, end[g] if g >= 0 else n)
            # Then the layer's entries are laid down; a non-directory put where
            # a directory was takes the directory's subtree with it.
            gids = self._gids[k]
            before = bytes(map(kind.__getitem__, gids)).translate(_IS_DIR)
            after = ix.kinds.translate(_NOT_DIR)
            for row in _positions(_and(before, after)):
                g = gids[row]
                clear(g + 1, end[g])
            _consume(map(owner.__setitem__, gids, repeat(tag)))
            _consume(map(kind.__setitem__, gids, ix.kinds))
            if size is not None:
                _consume(map(size.__setitem__, gids, ix.sizes))
            # Parents the layer implies but does not list become directories.
            seen = set()
            for p in set(map(parent.__getitem__, gids)):
                while p >= 0 and p not in seen:
                    seen.add(p)
                    if kind[p] != DIR:
                        owner[p] = tag
                        kind[p] = DIR
                        if size is not None:
                            size[p] = 0
                    p = parent[p]
            self._owners.append(bytes(owner))
            self._kinds.append(bytes(kind))
            if size is not None:
                self._state_sizes.append(size)
            self._files.append(
                (array("i", compress(gids, ix.sizes)), array("q", compress(ix.sizes, ix.sizes)))
            )

    # -- per-path lookups ---------------------------------------------------

    @property
    def layer_count(self) -> int:
        """Number of layers."""
        return len(self.layers)

    def _state(self, layer: int | None) -> int:
        if layer is None:
            return len(self.layers) - 1
        if not -len(self.layers) <= layer < len(self.layers):
            raise NotFound(f"looking up layer {layer}: the image has {len(self.layers)} layers")
        return layer % len(self.layers)

    def kinds(self, state: int) -> bytes:
        """Type code (0: absent) of every universe index in *state*."""
        return self._kinds[state]

    def layer_indexes(self, layer: int) -> array:
        """Universe index of each row of *layer*'s :class:`LayerIndex`."""
        return self._gids[layer]

    @property
    def subtree_end(self) -> array:
        """For each universe index, the index just past its subtree (pre-order)."""
        return self._end

    def index_of(self, path: str) -> int:
        """Universe index of *path*, or -1 (the root has no index)."""
        path = _norm(path)
        if not path:
            return -1
        i = bisect_left(self._paths, tree_key(path), key=tree_key)
        return i if i < self.size and self._paths[i] == path else -1

    def path_of(self, index: int) -> str:
        """The path at universe *index*."""
        return self._paths[index]

    def _row(self, layer: int, index: int) -> int:
        """Row of universe *index* in *layer*'s index, or -1 (implicit directory)."""
        rows = self._rowmaps.get(layer)
        if rows is not None:
            return rows[index]
        gids = self._gids[layer]
        row = bisect_left(gids, index)
        return row if row < len(gids) and gids[row] == index else -1

    def _rowmap(self, layer: int) -> array:
        """Row of every universe index in *layer* (-1: not there), built on first use."""
        rows = self._rowmaps.get(layer)
        if rows is None:
            rows = array("i", [-1]) * self.size
            _consume(map(rows.__setitem__, self._gids[layer], range(len(self._gids[layer]))))
            with self._lock:
                self._rowmaps[layer] = rows
        return rows

    def attrs(self, state: int, index: int) -> tuple | None:
        """``(kind, mode, uid, gid, size, mtime, linkname, devmajor, devminor)`` in *state*."""
        if state < 0:
            return None
        tag = self._owners[state][index]
        if not tag:
            return None
        layer = tag - 1
        row = self._row(layer, index)
        ix = self.layers[layer]
        if row < 0 or ix.kinds[row] != self._kinds[state][index]:
            return _IMPLICIT_DIR  # no entry, or an entry its own children turned into a directory
        major, minor = ix.devices.get(row, (0, 0))
        return (
            ix.kinds[row], ix.modes[row], ix.uids[row], ix.gids[row], ix.sizes[row],
            ix.mtimes[row], ix.linknames[row], major, minor,
        )

    def owner(self, state: int, index: int) -> int:
        """Index of the layer that provides universe *index* in *state*, or -1."""
        return self._owners[state][index] - 1 if state >= 0 else -1

    def sizes(self, state: int, since: int = -1) -> array:
        """Prefix sums (length size+1) of the file sizes present in *state*.

        With *since* >= 0 only files provided by layers after *since* count.
        """
        cache_key = (state, since)
        prefix = self._size_cache.get(cache_key)
        if prefix is None:
            if state >= 0 and since < 0 and self._state_sizes:
                values = self._state_sizes[state]
            else:
                values = array("q", bytes(8 * self.size))
                if state >= 0:
                    owners = self._owners[state]
                    for k in range(since + 1, state + 1):
                        tag = k + 1
                        for g, s in zip(*self._files[k]):
                            if owners[g] == tag:
                                values[g] = s
            prefix = _prefix_sums(values)
            with self._lock:
                while len(self._size_cache) >= 6:
                    self._size_cache.pop(next(iter(self._size_cache)))
                self._size_cache[cache_key] = prefix
        return prefix

    # -- bulk answers -------------------------------------------------------

    def flatten(self, layer: int | None = None) -> Iterator[tuple]:
        """``(path, type, mode, size, linkname, uid, gid)`` of every path in the state, in tree order."""
        for e in self.entries(layer):
            yield (e.path, e.type, e.mode, e.size, e.linkname, e.uid, e.gid)

    def entries(self, layer: int | None = None) -> Iterator[Entry]:
        """The state's paths as :class:`~engine.tarindex.Entry` records, in tree order."""
        if not self.layers:
            return
        state = self._state(layer)
        for k in range(state + 1):
            self._rowmap(k)  # O(1) row lookups for the bulk walk
        for i in _positions(self._kinds[state].translate(_NONZERO)):
            code, mode, uid, gid, size, mtime, link, major, minor = self.attrs(state, i)
            yield Entry(self._paths[i], TYPE_NAMES[code], mode, uid, gid, size, mtime, link,
                        major, minor)

    def resolve(self, path: str, layer: int | None = None, *, follow: bool = True) -> Resolved:
        """Find the layer that provides *path* as the image (as of *layer*) sees it.

        Symbolic links in parent directories are always followed, within the
        image root (``..`` stops at ``/``); a final symbolic link only when
        *follow*.  Raises :class:`NotFound` for a path the image lacks.
        """
        if not self.layers:
            raise NotFound(f"resolving {path!r}: the image has no layers")
        state = self._state(layer)
        kinds = self._kinds[state]
        pending = [p for p in _norm(path).split("/") if p][::-1]
        done: list[str] = []
        hops = 0
        index = -1
        while pending:
            part = pending.pop()
            if part == "..":
                if done:
                    done.pop()
                continue
            candidate = "/".join(done + [part])
            index = self.index_of(candidate)
            if index < 0 or not kinds[index]:
                raise NotFound(f"resolving {path!r}: {candidate!r} does not exist in the image")
            if kinds[index] == SYMLINK and (pending or follow):
                hops += 1
                if hops > _MAX_SYMLINKS:
                    raise StrataError(f"resolving {path!r}: too many levels of symbolic links")
                target = self.attrs(state, index)[6]
                if target.startswith("/"):
                    done = []
                pending.extend(p for p in reversed(target.split("/")) if p and p != ".")
                continue
            if pending and kinds[index] != DIR:
                raise NotFound(f"resolving {path!r}: {candidate!r} is not a directory")
            done.append(part)
        if not done:
            return Resolved(-1, "", "", None)
        resolved = "/".join(done)
        index = self.index_of(resolved)
        layer_index = self.owner(state, index)
        attrs = self.attrs(state, index)
        row = self._row(layer_index, index)
        entry = None if attrs is _IMPLICIT_DIR else self.layers[layer_index].entry(row)
        member = resolved
        if attrs[0] == HARDLINK:
            member = attrs[6]
            if member not in self.layers[layer_index]:
                # The link's target lives in a lower layer: serve it from there.
                below = self.index_of(member)
                if below >= 0 and layer_index > 0 and self._kinds[layer_index - 1][below]:
                    layer_index = self.owner(layer_index - 1, below)
        return Resolved(layer_index, resolved, member, entry)

    def view(self, layer: int | None = None, **options) -> TreeView:
        """A :class:`TreeView` of this image (see there for the options)."""
        return TreeView(self, layer, **options)


class TreeView:
    """One way of looking at an image's tree, queried lazily.

    * ``layer``: the state shown (after applying layers 0..layer); None is the
      merged image.
    * ``base``: the state statuses compare against.  Defaults to ``layer - 1``
      (dive's per-layer view; layer 0 compares with an empty tree, so all of
      it is ``added``); for the merged image it defaults to the merged image
      itself (everything ``unchanged``).  Pass ``base=0`` for dive's
      "aggregated" comparison, ``base=-1`` to compare with nothing.
    * ``statuses``: the change statuses to show (default: all).  A directory
      is also shown when something under it is.
    * ``context``: True shows the whole tree as of ``layer`` (plus what was
      removed); False shows only what the layers after ``base`` touched (their
      entries and removals) and the directories leading to it.
    * ``prefix``: only that subtree is visible.

    Statuses: ``added`` (not in base), ``removed`` (in base, not in layer),
    ``modified`` (re-supplied by a later layer — content is not hashed, so a
    file that appears again counts as modified, as dive does; a directory
    counts as modified when its type/mode/owner changed or anything under it
    changed), ``unchanged``.  Directory sizes are cumulative: the files the
    state holds under them (for a removed directory: what it held in base;
    with ``context=False``: only the files the later layers supplied).
    """

    def __init__(
        self,
        image: ImageTree | Sequence[LayerIndex],
        layer: int | None = None,
        *,
        base: int | None = None,
        statuses: Iterable[str] | None = None,
        context: bool = True,
        prefix: str = "",
    ) -> None:
        if not isinstance(image, ImageTree):
            image = ImageTree(image)
        self.image = image
        count = image.layer_count
        if count == 0:
            state = base_state = -1
        else:
            state = image._state(layer)
            if base is None:
                base_state = state if layer is None else state - 1
            elif base == -1:
                base_state = -1
            else:
                base_state = image._state(base)
            if base_state > state:
                raise StrataError(
                    f"building tree view: base layer {base_state} is above layer {state}"
                )
        self.layer = state
        self.base = base_state
        wanted = STATUSES if statuses is None else frozenset(statuses)
        unknown = wanted - STATUSES
        if unknown:
            raise StrataError(
                f"building tree view: unknown status {min(unknown)!r} "
                f"(expected some of {', '.join(sorted(STATUSES))})"
            )
        self.statuses = wanted
        self.context = context
        self._listings: OrderedDict[tuple, list[int]] = OrderedDict()
        self._compute()
        self.prefix = _norm(prefix)
        if self.prefix:
            root = image.index_of(self.prefix)
            if root < 0 or not self._visible[root]:
                raise NotFound(f"building tree view: {self.prefix!r} is not in the view")
            self._root = root
        else:
            self._root = -1

    # -- construction -------------------------------------------------------

    def _compute(self) -> None:
        img = self.image
        n = img.size
        state, base = self.layer, self.base
        empty = bytes(n)
        owner_t = img._owners[state] if state >= 0 else empty
        owner_b = img._owners[base] if base >= 0 else empty
        kind_t = img._kinds[state] if state >= 0 else empty
        kind_b = img._kinds[base] if base >= 0 else empty

        differ = (int.from_bytes(owner_t, "little") ^ int.from_bytes(owner_b, "little"))
        differ_flags = differ.to_bytes(n, "little").translate(_NONZERO)
        code = (
            int.from_bytes(differ_flags, "little") << 2
            | int.from_bytes(owner_t.translate(_NONZERO), "little") << 1
            | int.from_bytes(owner_b.translate(_NONZERO), "little")
        )
        status = bytearray(code.to_bytes(n, "little").translate(_CODE_TO_STATUS))

        # A directory supplied again with the same type, mode and owner is unchanged...
        dirs_t = kind_t.translate(_IS_DIR)
        for i in _positions(_and(status.translate(_IS_MODIFIED), dirs_t)):
            if kind_b[i] == DIR:
                mine, before = img.attrs(state, i), img.attrs(base, i)
                if mine[1:4] == before[1:4]:
                    status[i] = UNCHANGED
        # ...unless something under it changed.
        changes = _prefix_sums(status.translate(_IS_CHANGE))
        end = img._end
        for i in _positions(_and(status.translate(_IS_UNCHANGED), dirs_t)):
            if changes[end[i]] - changes[i + 1]:
                status[i] = MODIFIED
        self._status = bytes(status)
        self._kind_t, self._kind_b = kind_t, kind_b

        # Which nodes qualify by themselves, and which are shown.
        everything = self.statuses == STATUSES and self.context
        if everything:
            self._visible = self._status.translate(_NONZERO)
        else:
            wanted = _table({STATUS_NAMES.index(s): 1 for s in self.statuses})
            qualify = self._status.translate(wanted)
            if not self.context:
                touched = owner_t.translate(_table({t: 1 for t in range(base + 2, 256)}))
                touched = _or(touched, self._status.translate(_IS_REMOVED))
                qualify = _and(qualify, touched)
            below = _prefix_sums(qualify)
            visible = bytearray(qualify)
            dirs = _or(dirs_t, kind_b.translate(_IS_DIR))
            for i in _positions(dirs):
                if not visible[i] and below[end[i]] - below[i + 1]:
                    visible[i] = 1
            self._visible = bytes(visible)
        self._child_counts = Counter(compress(img._parent, self._visible))
        self._sizes_t = img.sizes(state, -1 if self.context else base)
        self._sizes_b = img.sizes(base)

    # -- queries ------------------------------------------------------------

    def _index(self, path: str) -> int:
        """Universe index of a visible *path* inside the prefix (-1 for the view's root)."""
        path = _norm(path)
        if not path or path == self.prefix:
            return self._root
        if self.prefix and not path.startswith(self.prefix + "/"):
            raise NotFound(f"looking up {path!r}: it is outside {self.prefix!r}")
        i = self.image.index_of(path)
        if i < 0 or not self._visible[i]:
            raise NotFound(f"looking up {path!r}: no such path in this view")
        return i

    def _children(self, parent: int) -> list[int]:
        """Visible children of universe index *parent* (-1: the image root), in name order."""
        key = (parent, "name")
        listing = self._listings.get(key)
        if listing is not None:
            self._listings.move_to_end(key)
            return listing
        end = self.image._end
        visible = self._visible
        if parent < 0:
            j, stop = 0, self.image.size
        else:
            j, stop = parent + 1, end[parent]
        listing = []
        add = listing.append
        while j < stop:
            if visible[j]:
                add(j)
            j = end[j]
        self._remember(key, listing)
        return listing

    def _remember(self, key: tuple, listing: list[int]) -> None:
        self._listings[key] = listing
        if len(self._listings) > _CACHED_LISTINGS:
            self._listings.popitem(last=False)

    def _size(self, i: int) -> int:
        end = self.image._end
        if self._status[i] == REMOVED:
            sizes = self._sizes_b
        else:
            sizes = self._sizes_t
        if self._kind_t[i] == DIR or (self._status[i] == REMOVED and self._kind_b[i] == DIR):
            return sizes[end[i]] - sizes[i + 1]
        return sizes[i + 1] - sizes[i]

    def children(
        self, dir_path: str = "", sort: str = "name", offset: int = 0, limit: int | None = None
    ) -> list[Node]:
        """The shown children of *dir_path* as :class:`Node` records, one page at a time.

        ``sort`` is ``"name"`` (code-point order) or ``"size"`` (largest first,
        then by name).
        """
        parent = self._index(dir_path)
        if sort == "name":
            listing = self._children(parent)
        elif sort == "size":
            key = (parent, "size")
            listing = self._listings.get(key)
            if listing is None:
                names = self._children(parent)
                size = self._size
                listing = sorted(names, key=lambda i: -size(i))  # stable: ties stay in name order
                self._remember(key, listing)
        else:
            raise StrataError(f"listing {dir_path!r}: unknown sort {sort!r} (expected name or size)")
        if offset < 0:
            raise StrataError(f"listing {dir_path!r}: negative offset {offset}")
        page = listing[offset:] if limit is None else listing[offset : offset + limit]
        return self._nodes(page)

    def count(self, dir_path: str = "") -> int:
        """Number of shown children of *dir_path*."""
        return self._child_counts.get(self._index(dir_path), 0)

    def node(self, path: str = "") -> Node:
        """The :class:`Node` at *path* (``""`` or the prefix: the view's root)."""
        i = self._index(path)
        if i < 0:
            return self._root_node()
        return self._node(i)

    def walk(self, prefix: str = "") -> Iterator[Node]:
        """Every shown node under *prefix* (default: the view's root), depth first, by name."""
        img = self.image
        start = self._index(prefix) if prefix else self._root
        if start < 0:
            i, stop = 0, img.size
        else:
            i, stop = start + 1, img._end[start]
        end = img._end
        visible = self._visible
        while i < stop:
            if visible[i]:
                yield self._node(i)
                i += 1
            else:
                i = end[i]

    def flatten(self) -> Iterator[tuple]:
        """``(path, type, mode, size, linkname, uid, gid)`` of every shown node, in tree order.

        Directory sizes here are their own (0), as a tar listing gives them.
        """
        for node in self.walk():
            size = 0 if node.type == "dir" else node.size
            yield (node.path, node.type, node.mode, size, node.linkname, node.uid, node.gid)

    @property
    def total_size(self) -> int:
        """Cumulative size of the view's root."""
        return self._root_node().size

    def _root_node(self) -> Node:
        if self._root >= 0:
            return self._node(self._root)
        sizes = self._sizes_t
        return Node("", "", "dir", 0o755, 0, 0, sizes[-1] - sizes[0], "", self._root_status(),
                    self._child_counts.get(-1, 0), -1)

    def _root_status(self) -> str:
        return "modified" if 1 in self._status.translate(_IS_CHANGE) else "unchanged"

    def _node(self, i: int) -> Node:
        return self._nodes((i,))[0]

    def _nodes(self, indices: Sequence[int]) -> list[Node]:
        """Make :class:`Node` records for universe *indices* (the only per-node objects made)."""
        img = self.image
        paths, end = img._paths, img._end
        status_of, kind_t, kind_b = self._status, self._kind_t, self._kind_b
        empty = bytes(img.size)
        owners_t = img._owners[self.layer] if self.layer >= 0 else empty
        owners_b = img._owners[self.base] if self.base >= 0 else empty
        sizes_t, sizes_b = self._sizes_t, self._sizes_b
        count = self._child_counts.get
        # Per owner tag: a row lookup and the attribute columns of that layer.
        many = len(indices) >= 256
        columns: list = [None] * (img.layer_count + 1)
        row_of = img._row
        new = tuple.__new__
        nodes = []
        append = nodes.append
        for i in indices:
            status = status_of[i]
            if status == REMOVED:
                tag, kind, sizes = owners_b[i], kind_b[i], sizes_b
                layer = self._removed_by(i)
            else:
                tag, kind, sizes = owners_t[i], kind_t[i], sizes_t
                layer = tag - 1
            column = columns[tag]
            if column is None:
                ix = img.layers[tag - 1]
                rows = img._rowmap(tag - 1) if many else None
                column = columns[tag] = (
                    tag - 1, rows, ix.kinds, ix.modes, ix.uids, ix.gids, ix.linknames,
                )
            k, rows, kinds, modes, uids, gids, links = column
            row = rows[i] if rows is not None else row_of(k, i)
            if row >= 0 and kinds[row] == kind:
                mode, uid, gid, link = modes[row], uids[row], gids[row], links[row]
            else:
                mode, uid, gid, link = 0o755, 0, 0, ""
            if kind == DIR:
                size = sizes[end[i]] - sizes[i + 1]
            else:
                size = sizes[i + 1] - sizes[i]
            path = paths[i]
            append(new(Node, (
                path.rpartition("/")[2], path, TYPE_NAMES[kind], mode, uid,
                gid, size, link, STATUS_NAMES[status], count(i, 0), layer,
            )))
        return nodes

    def _removed_by(self, i: int) -> int:
        """The layer after base that removed universe index *i* for good."""
        kinds = self.image._kinds
        layer = self.layer
        while layer - 1 > self.base and not kinds[layer - 1][i]:
            layer -= 1
        return layer

