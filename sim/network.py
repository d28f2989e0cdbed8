"""The social network of consumers: networkx graphs in, neighbour arrays out.

Contacts are kept as compressed sparse rows (``indptr``, ``indices``): the
contacts of consumer ``i`` are ``indices[indptr[i]:indptr[i + 1]]``. The
fully mixed network (``complete``) has no edge list at all: a story there
reaches a Poisson number of consumers drawn from the whole population.
"""

from __future__ import annotations

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
    edges = edges[edges[:, 0] != edges[:, 1]]
    # Each edge both ways as one key source * size + target: sorted keys give rows by source,
    # and dropping repeated keys drops duplicate edges (np.unique on rows is far slower).
    keys = np.sort(np.concatenate([edges[:, 0] * size + edges[:, 1], edges[:, 1] * size + edges[:, 0]]))
    keys = keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys
    source, target = np.divmod(keys, size) if size else (keys, keys)
    indptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(source, minlength=size), out=indptr[1:])
    return Contacts(size, indptr, target, len(keys) / max(size, 1))


def build(kind: str, size: int, mean_degree: float, rewiring: float, seed: int,
          file: str = "", fast: bool = False) -> Contacts:
    """Build the network named by ``kind``; ``seed`` makes it reproducible.

    ``fast``: build the small world with NumPy (:func:`small_world`, the same distribution, seconds
    at a million consumers) rather than networkx (the per-agent engine keeps networkx's graph).
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
        graph = nx.barabasi_albert_graph(size, min(m, size - 1), seed=seed) if size > 1 else nx.empty_graph(size)
    elif kind == "random":
        p = min(1.0, mean_degree / (size - 1)) if size > 1 else 0.0
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
    source = np.repeat(np.arange(size, dtype=np.int64), half)
    lattice = (source + np.tile(np.arange(1, half + 1, dtype=np.int64), size)) % size
    is_rewired = rng.random(len(source)) < rewiring
    rewired = np.flatnonzero(is_rewired)
    kept = np.sort(np.minimum(source[~is_rewired], lattice[~is_rewired]) * size
                   + np.maximum(source[~is_rewired], lattice[~is_rewired]))
    target = lattice.copy()
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
        target[rewired[pending]] = lattice[rewired[pending]]  # a saturated consumer keeps its edge
    return from_edges(np.column_stack([source, target]), size)


def read_edge_list(file: str | Path) -> tuple[list[str], np.ndarray]:
    """Read an edge list: one ``a b`` pair a line (a single label: a consumer with no contacts).

    Labels are any tokens; consumers are numbered in order of first appearance.
    Blank lines and lines starting with ``#`` are skipped; a third column
    (a weight) is allowed and ignored.
    """
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read the edge list {str(file)!r}: {exc}") from None
    index: dict[str, int] = {}
    edges: list[tuple[int, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split("#", 1)[0].replace(",", " ").split()
        if not tokens:
            continue
        if len(tokens) > 3:
            raise ScenarioError(f"{file}: line {number}: expected 'a b' (two consumer labels, "
                                f"optionally a weight), found {line.strip()!r}")
        ids = [index.setdefault(t, len(index)) for t in tokens[:2]]
        if len(ids) == 2:
            edges.append((ids[0], ids[1]))
    if not index:
        raise ScenarioError(f"{file}: expected at least one edge, found an empty file")
    return list(index), np.array(edges, dtype=np.int64).reshape(-1, 2)
