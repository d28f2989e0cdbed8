"""The social network of consumers: networkx graphs in, neighbour arrays out.

Contacts are kept as compressed sparse rows (``indptr``, ``indices``): the
contacts of consumer ``i`` are ``indices[indptr[i]:indptr[i + 1]]``. The
fully mixed network (``complete``) has no edge list at all: a story there
reaches a Poisson number of consumers drawn from the whole population.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import numpy as np

from .params import ScenarioError


@dataclass
class Contacts:
    """Who hears whom. ``indptr`` is None for the fully mixed network."""
    size: int
    indptr: np.ndarray | None = None
    indices: np.ndarray | None = None
    mean_degree: float = 0.0

    @property
    def mixed(self) -> bool:
        return self.indptr is None

    def of(self, i: int) -> np.ndarray:
        return self.indices[self.indptr[i]:self.indptr[i + 1]]

    def audience(self, i: int, rng: np.random.Generator) -> np.ndarray:
        """Who a story told by consumer ``i`` can reach."""
        if not self.mixed:
            return self.of(i)
        count = rng.poisson(self.mean_degree)
        if count == 0 or self.size < 2:
            return np.empty(0, dtype=np.int64)
        others = rng.integers(0, self.size - 1, size=count)
        return others + (others >= i)  # uniform over everyone but the teller

    def degrees(self) -> np.ndarray:
        if self.mixed:
            return np.full(self.size, self.mean_degree)
        return np.diff(self.indptr)


def from_graph(graph: nx.Graph, size: int) -> Contacts:
    """Neighbour arrays of a graph on nodes 0..size-1, each undirected edge both ways."""
    edges = np.array(graph.edges(), dtype=np.int64).reshape(-1, 2)
    return from_edges(edges, size)


def from_edges(edges: np.ndarray, size: int) -> Contacts:
    """Neighbour arrays of an edge list on nodes 0..size-1: loops and repeated edges dropped, each
    edge both ways, each consumer's contacts in increasing order."""
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    return _neighbours(edges[:, 0], edges[:, 1], size)


def _neighbours(u: np.ndarray, v: np.ndarray, size: int) -> Contacts:
    """:func:`from_edges` of the edges (u[i], v[i])."""
    loop = u == v
    if loop.any():
        u, v = u[~loop], v[~loop]
    # Each edge both ways as one key source * size + target: sorted keys give rows by source,
    # and dropping repeated keys drops duplicate edges (np.unique on rows is far slower). In place
    # where it can be: at a million consumers the arrays are 80 MB each.
    m = len(u)
    keys = np.empty(2 * m, dtype=np.int64)
    np.multiply(u, size, out=keys[:m])
    keys[:m] += v
    np.multiply(v, size, out=keys[m:])
    keys[m:] += u
    keys.sort()
    if m:
        repeated = keys[1:] == keys[:-1]
        if repeated.any():
            keys = keys[np.concatenate(([True], ~repeated))]
    indptr = np.searchsorted(keys, np.arange(size + 1, dtype=np.int64) * size)
    count = len(keys)
    if size:
        np.remainder(keys, size, out=keys)  # the targets
    return Contacts(size, indptr, keys, count / max(size, 1))


def build(kind: str, size: int, mean_degree: float, rewiring: float, seed: int,
          file: str = "", fast: bool = False) -> Contacts:
    """Build the network named by ``kind``; ``seed`` makes it reproducible.

    ``fast``: build the small world, the random and the scale-free network with NumPy
    (:func:`small_world`, :func:`random_graph`, :func:`scale_free`: the same distributions, seconds
    at a million consumers) rather than networkx (the per-agent engine keeps networkx's graphs).
    """
    if kind == "complete":
        return Contacts(size, mean_degree=min(mean_degree, max(size - 1, 0)))
    if kind == "file":
        labels, edges = read_edge_list(file)
        return from_edges(edges, len(labels))
    if kind == "small_world":
        # A ring lattice joins each consumer to k/2 neighbours on each side: k is even, at least 2.
        k = max(2, 2 * int(mean_degree / 2 + 0.5))  # nearest even number, halves rounded up
        if fast:
            return small_world(size, min(k, size - 1), rewiring, seed)
        graph = nx.watts_strogatz_graph(size, min(k, size - 1), rewiring, seed=seed)
    elif kind == "scale_free":
        m = max(1, int(round(mean_degree / 2)))
        if fast:
            return scale_free(size, m, seed)
        graph = nx.barabasi_albert_graph(size, min(m, size - 1), seed=seed) if size > 1 else nx.empty_graph(size)
    elif kind == "random":
        p = min(1.0, mean_degree / (size - 1)) if size > 1 else 0.0
        if fast:
            return random_graph(size, p, seed)
        graph = nx.fast_gnp_random_graph(size, p, seed=seed)
    else:  # the schema admits no other kind
        raise ValueError(f"unknown network kind {kind!r}")
    return from_graph(graph, size)


def small_world(size: int, k: int, rewiring: float, seed: int) -> Contacts:
    """Watts-Strogatz small world built with NumPy, straight to neighbour arrays.

    The same construction as ``networkx.watts_strogatz_graph``: a ring lattice joining each
    consumer to its k/2 nearest neighbours on each side, then each lattice edge (u, u + j) has its
    far end moved, with probability ``rewiring``, to a consumer drawn uniformly among those that
    are neither u nor already u's contact (redrawn while it would make a loop or a duplicate).
    networkx rewires one edge at a time; here all at once, which differs only in which of two
    edges landing on the same pair is redrawn: the same distribution of graphs for practical sizes.
    """
    rng = np.random.default_rng(seed)
    half = min(k // 2, max(size - 1, 0) // 2)
    if size < 2 or half == 0:
        return from_edges(np.empty((0, 2), dtype=np.int64), size)
    # The lattice edges (u, u + j mod size), j = 1..half, in order of u then j (fewer temporaries
    # than the obvious expressions: at a million consumers each array is 40 MB).
    source = np.repeat(np.arange(size, dtype=np.int64), half)
    lattice = np.tile(np.arange(1, half + 1, dtype=np.int64), size)
    lattice += source
    wrap = lattice[(size - half) * half:]  # only the last consumers' edges go round the ring
    wrap[wrap >= size] -= size
    is_rewired = rng.random(len(source)) < rewiring
    rewired = np.flatnonzero(is_rewired)
    # The kept lattice pairs as keys min * size + max, sorted (already, but for the wrapped edges).
    kept = np.multiply(source, size)
    kept += lattice
    tail = (size - half) * half
    wrapped = lattice[tail:] < source[tail:]
    kept[tail:][wrapped] = lattice[tail:][wrapped] * size + source[tail:][wrapped]
    kept = np.compress(~is_rewired, kept)
    kept.sort()
    target = lattice
    u = source[rewired]
    pending = np.arange(len(rewired))
    for _ in range(100):  # a few rounds: clashes are rare (about k/size of the draws)
        if not len(pending):
            break
        w = target[rewired]
        w[pending] = rng.integers(0, size, len(pending))
        target[rewired] = w
        pair = np.minimum(u, w) * size + np.maximum(u, w)
        # A clash: a loop, a pair the lattice keeps, or a pair an earlier rewired edge took.
        at = np.minimum(np.searchsorted(kept, pair), len(kept) - 1) if len(kept) else None
        clash = (u == w) | ((kept[at] == pair) if len(kept) else False)
        order = np.argsort(pair, kind="stable")
        repeat = np.zeros(len(pair), dtype=bool)
        repeat[order[1:]] = pair[order[1:]] == pair[order[:-1]]
        pending = np.flatnonzero(clash | repeat)
    else:
        # A saturated consumer keeps its edge.
        target[rewired[pending]] = (source[rewired[pending]] + 1 + rewired[pending] % half) % size
    return _neighbours(source, target, size)


def _positions(rng: np.random.Generator, batch: int, scale: float, start: float) -> np.ndarray:
    """``batch`` positions of a Bernoulli process after ``start``, in floating point: the sums of gaps
    floor(E x scale) + 1 of standard exponentials E (an infinite gap is a gap past the end)."""
    pos = rng.standard_exponential(batch)
    # Only a scale near the float limit can overflow (a standard exponential draw is below 50); NumPy's
    # errstate costs more than the arithmetic of a small batch, so it is entered only then.
    with np.errstate(over="ignore") if scale >= 1e300 else contextlib.nullcontext():
        pos *= scale
        np.floor(pos, out=pos)
        pos += 1.0
        pos.cumsum(out=pos)
    pos += start
    return pos


NO_PICKS, ALL_PICKED, GAPS, LONG_GAPS = 0, 1, 2, 3  # how bernoulli_picks draws (bernoulli_plan)


def bernoulli_plan(count: int, chance: float) -> tuple[int, float, int]:
    """How :func:`bernoulli_picks` draws ``count`` positions each picked with ``chance``: (how, the
    gaps' scale, the exponentials drawn per batch). ``how``: NO_PICKS, ALL_PICKED (no draw), GAPS
    (positions exact in floating point) or LONG_GAPS (more positions than that, in integers)."""
    if count <= 0 or chance <= 0:
        return NO_PICKS, 0.0, 0
    if count > 2**61:
        raise ValueError(f"bernoulli_picks: at most 2**61 positions, asked for {count}")
    if chance >= 1:
        return ALL_PICKED, 0.0, 0
    # Geometric gaps by inversion, floor(E / -log(1 - p)) + 1 of standard exponentials E, in floating
    # point: a tiny chance gives gaps far beyond ``count`` (NumPy's integer geometric draws overflow
    # there), and an infinite gap is a gap past the end.
    with np.errstate(over="ignore") if chance < 1e-300 else contextlib.nullcontext():  # 1 / a subnormal: inf
        scale = -1.0 / np.log1p(-chance)
    expected = count * chance
    batch = int(min(expected + 5 * expected ** 0.5 + 16, 2**26))
    return GAPS if count <= 2**53 else LONG_GAPS, float(scale), batch


def bernoulli_picks(rng: np.random.Generator, count: int, chance: float, draw=None) -> np.ndarray:
    """Positions in ``range(count)`` each picked with ``chance``, independently, in increasing order.

    The gaps between the picks of a Bernoulli process are geometric: the draws cost the picks, not
    ``count`` (which may be far larger than memory, as the pairs of a million consumers).
    ``draw``: :func:`sim.kernels.draw_picks` (the array engine's), the same draws and arithmetic
    compiled into one pass; the same picks.
    """
    how, scale, batch = bernoulli_plan(count, chance)
    if how == NO_PICKS:
        return np.empty(0, dtype=np.int64)
    if how == ALL_PICKED:
        return np.arange(count, dtype=np.int64)
    if how == GAPS and draw is not None:
        return draw(rng, count, how, scale, batch)
    if how == GAPS:  # positions are exact in floating point: one pass of sums, integers at the end
        picks = _positions(rng, batch, scale, -1.0)
        while picks[-1] < count:
            picks = np.concatenate([picks, _positions(rng, batch, scale, float(picks[-1]))])
        return picks[:picks.searchsorted(count)].astype(np.int64)

    def gaps() -> np.ndarray:
        with np.errstate(over="ignore"):
            gap = np.minimum(rng.standard_exponential(batch) * scale, 2.0 * count + 2.0)  # past the end
        return np.floor(gap).astype(np.int64) + 1

    def steps(start: int) -> np.ndarray:
        """Positions after ``start``, up to the first past the end (whose sum cannot overflow)."""
        gap = gaps()
        keep = np.searchsorted(np.cumsum(gap, dtype=float), count - start, side="right") + 1
        return np.cumsum(gap[:keep]) + start

    picks = steps(-1)
    while picks[-1] < count:
        picks = np.concatenate([picks, steps(int(picks[-1]))])
    return picks[:np.searchsorted(picks, count)]


def random_graph(size: int, p: float, seed: int) -> Contacts:
    """Erdos-Renyi G(n, p) built with NumPy: each of the n(n-1)/2 pairs joined with chance p.

    The distribution of ``networkx.fast_gnp_random_graph`` (which also skips between chosen pairs by
    geometric gaps), one pass over the chosen pairs instead of a Python loop.
    """
    rng = np.random.default_rng(seed)
    pairs = bernoulli_picks(rng, size * (size - 1) // 2, p)
    # Pair k is (v, w), v < w, with k = w (w - 1) / 2 + v: w from the triangular root, made exact.
    w = ((1.0 + np.sqrt(1.0 + 8.0 * pairs.astype(float))) / 2.0).astype(np.int64)
    w -= w * (w - 1) // 2 > pairs
    w += (w + 1) * w // 2 <= pairs
    return from_edges(np.column_stack([pairs - w * (w - 1) // 2, w]), size)


def scale_free(size: int, m: int, seed: int) -> Contacts:
    """Barabasi-Albert preferential attachment built with NumPy, straight to neighbour arrays.

    ``networkx.barabasi_albert_graph``'s construction: a star on m + 1 consumers, then each new
    consumer joins m distinct consumers drawn from the list of edge ends (each consumer as often as
    its degree; a repeat is redrawn). networkx adds one consumer at a time; here consumers join in
    chunks of 1 % of those already there, each drawing from the list as it was when its chunk
    began (so a newcomer cannot join another of its own chunk, a fraction of a percent of its
    edges): the same mean degree and, as tested against networkx, the same heavy tail.
    """
    rng = np.random.default_rng(seed)
    m = min(m, size - 1)
    if size < 2 or m < 1:
        return from_edges(np.empty((0, 2), dtype=np.int64), size)
    edges = np.empty((m + (size - m - 1) * m, 2), dtype=np.int64)
    edges[:m, 0], edges[:m, 1] = 0, np.arange(1, m + 1)  # the star
    ends = np.empty(2 * len(edges), dtype=np.int64)  # every edge's two ends: degree-weighted draws
    ends[:m], ends[m:2 * m] = 0, np.arange(1, m + 1)
    filled, new = 2 * m, m + 1
    while new < size:
        chunk = min(size - new, max(1, new // 100))
        targets = ends[rng.integers(0, filled, size=(chunk, m))]
        while m > 1:  # m distinct targets a newcomer: redraw the repeats
            targets.sort(axis=1)
            repeat = np.zeros(targets.shape, dtype=bool)
            repeat[:, 1:] = targets[:, 1:] == targets[:, :-1]
            if not repeat.any():
                break
            targets[repeat] = ends[rng.integers(0, filled, size=int(repeat.sum()))]
        sources = np.repeat(np.arange(new, new + chunk, dtype=np.int64), m)
        at = m + (new - m - 1) * m
        edges[at:at + chunk * m, 0], edges[at:at + chunk * m, 1] = sources, targets.reshape(-1)
        ends[filled:filled + chunk * m] = targets.reshape(-1)
        ends[filled + chunk * m:filled + 2 * chunk * m] = sources
        filled += 2 * chunk * m
        new += chunk
    return from_edges(edges, size)


# A header row written by spreadsheet and graph tools (Gephi, pandas): not consumers.
HEADER_WORDS = {"source", "target", "from", "to", "weight", "src", "dst", "node1", "node2", "source_id",
                "target_id", "sender", "receiver"}
MAX_EDGE_LIST_BYTES = 2_000_000_000


def read_edge_list(file: str | Path) -> tuple[list[str], np.ndarray]:
    """Read an edge list: one ``a b`` pair a line (a single label: a consumer with no contacts).

    Labels are any tokens; consumers are numbered in order of first appearance.
    Blank lines and lines starting with ``#`` are skipped; a third column
    (a weight) is allowed and ignored. A byte-order mark at the start is skipped; a header row
    (``source,target``), NUL bytes, a TOML file or anything but a regular file are refused.
    """
    import stat

    path = Path(file)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(f"cannot read the edge list {str(file)!r}: expected a regular file, found "
                                f"{'a folder' if stat.S_ISDIR(info.st_mode) else 'a FIFO, socket or device'}")
        if info.st_size > MAX_EDGE_LIST_BYTES:
            raise ScenarioError(f"cannot read the edge list {str(file)!r}: expected at most "
                                f"{MAX_EDGE_LIST_BYTES:,} bytes, found {info.st_size:,}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ScenarioError(f"cannot read the edge list {str(file)!r}: {reason}") from None
    if path.suffix.lower() == ".toml":
        raise ScenarioError(f"{file}: expected an edge list ('a b' a line), found a TOML file")
    text = text.removeprefix("\ufeff")
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise ScenarioError(f"{file}: line {line}: expected text labels, found a NUL byte (a binary file?)")
    index: dict[str, int] = {}
    edges: list[tuple[int, int]] = []
    first = True
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split("#", 1)[0].replace(",", " ").split()
        if not tokens:
            continue
        if first and {t.lower() for t in tokens} <= HEADER_WORDS:
            raise ScenarioError(f"{file}: line {number}: expected 'a b' (two consumer labels), found a "
                                f"header row {line.strip()[:80]!r}; remove it or start it with #")
        first = False
        if len(tokens) > 3:
            raise ScenarioError(f"{file}: line {number}: expected 'a b' (two consumer labels, "
                                f"optionally a weight), found {line.strip()[:80]!r}")
        ids = [index.setdefault(t, len(index)) for t in tokens[:2]]
        if len(ids) == 2:
            edges.append((ids[0], ids[1]))
    if not index:
        raise ScenarioError(f"{file}: expected at least one edge, found an empty file")
    return list(index), np.array(edges, dtype=np.int64).reshape(-1, 2)
