"""Connected components on integer-labelled edge arrays (union-find, vectorised).

Used to link buyers through shared devices and addresses (BRUSH002), to split a dense block into
its connected parts (BRUSH001) and to close near-duplicate review pairs into clusters (REVIEW001).
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def component_labels(n_nodes: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Label of each node 0..n_nodes-1: the smallest node index of its component.

    Labelling by the smallest member (rather than scipy's visiting order) makes the labels depend
    only on the graph, so the same input gives the same labels whatever order edges arrive in.
    """
    if n_nodes == 0:
        return np.zeros(0, dtype=np.int64)
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n_nodes, n_nodes))
    _, raw = connected_components(graph, directed=False)
    smallest = np.full(raw.max() + 1, n_nodes, dtype=np.int64)
    np.minimum.at(smallest, raw, np.arange(n_nodes, dtype=np.int64))
    return smallest[raw]


def groups(labels: np.ndarray) -> list[np.ndarray]:
    """Members of each component (ascending), components ordered by their smallest member."""
    order = np.argsort(labels, kind="stable")
    sorted_labels = labels[order]
    cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
    return np.split(order, cuts)
