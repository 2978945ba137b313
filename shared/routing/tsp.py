"""Shortest open path from a fixed start through every node: iterated local search.

Rules of this file: plain Python, no numpy (it runs on the phone). The path is modelled as a list
`[start, ..., END]` where END is a dummy node at distance 0 from everybody, so the last real
stop is free; positions 0 and -1 never move. The local search is 2-opt plus Or-opt (segments of
1-3, both orientations) over 10-nearest-neighbour candidate lists with a queue of "dirty" nodes
(don't-look bits); the iterated local search applies local double-bridge kicks (segments of at
most 50), repairs with the same local search seeded with the touched nodes, and keeps the kicked
path when it is not longer. Kicks are counted, never timed, so the result is a function of the
input and the seed (research: /work/shared/research/routing.md, sections 4, 5 and 10).
"""

from __future__ import annotations

import itertools
import random
from collections import deque
from collections.abc import Sequence
from typing import Final

from shared.routing.distance import nearest

NEIGHBOURS: Final = 16  # the loops stop at the first farther candidate, so more are cheap
MAX_SEGMENT: Final = 3  # Or-opt moves segments of 1..3 nodes
KICK_SPAN: Final = 50  # a double bridge moves segments of at most this many nodes
GLOBAL_KICKS: Final = 0.1  # share of kicks that cut anywhere
_EPS: Final = 1e-7  # metres: a move must gain more than this (guards float noise loops)

Matrix = Sequence[Sequence[float]]


def path_length(dist: Matrix, path: Sequence[int]) -> float:
    """Length of a path given as node indices (no dummy)."""
    return sum(dist[a][b] for a, b in itertools.pairwise(path))


def kicks_for(n: int) -> tuple[int, int]:
    """(kicks without improvement before stopping, hard cap on kicks) for n stops."""
    return 3 * n + 50, 10 * n + 100


class _Search:
    """State of one solve: the extended matrix and the tour as a list plus node positions."""

    def __init__(self, dist: Matrix) -> None:
        n = len(dist)
        self.end = n  # the dummy END node
        self.d = [[*row, 0.0] for row in dist]
        self.d.append([0.0] * (n + 1))
        # Candidate lists over real nodes; the start (0) is a candidate too (it is the left end).
        self.near = [
            nearest(self.d[i], (j for j in range(n) if j != i), NEIGHBOURS) for i in range(n)
        ]
        self.near.append([])
        self.tour: list[int] = []
        self.pos: list[int] = [0] * (n + 1)

    # -- tour bookkeeping -------------------------------------------------------------------

    def set_tour(self, tour: list[int]) -> None:
        self.tour = tour
        for i, node in enumerate(tour):
            self.pos[node] = i

    def _reverse(self, i: int, j: int) -> None:
        """Reverse tour[i..j] (inclusive), 1 <= i <= j <= len-2."""
        t = self.tour
        t[i : j + 1] = t[i : j + 1][::-1]
        pos = self.pos
        for k in range(i, j + 1):
            pos[t[k]] = k

    def _move_segment(self, i: int, length: int, j: int, reverse: bool) -> None:
        """Move tour[i:i+length] to sit right after the node now at position j (outside it)."""
        t = self.tour
        seg = t[i : i + length]
        if reverse:
            seg.reverse()
        if j < i:
            t[j + 1 : i + length] = seg + t[j + 1 : i]
            lo, hi = j + 1, i + length
        else:
            t[i : j + 1] = t[i + length : j + 1] + seg
            lo, hi = i, j + 1
        pos = self.pos
        for k in range(lo, hi):
            pos[t[k]] = k

    # -- local search -----------------------------------------------------------------------

    def _two_opt(self, a: int) -> tuple[int, ...] | None:
        d, t, pos, last = self.d, self.tour, self.pos, len(self.tour) - 1
        i = pos[a]
        da = d[a]
        if i < last - 1:  # successor direction: edges (a,b) and (c,e) -> (a,c) and (b,e)
            b = t[i + 1]
            dab = da[b]
            for c in self.near[a]:
                dac = da[c]
                if dac >= dab:
                    break
                j = pos[c]
                if j > i + 1:
                    e = t[j + 1]
                    if dac + d[b][e] - dab - d[c][e] < -_EPS:
                        self._reverse(i + 1, j)
                        return a, b, c, e
                elif j < i:
                    e = t[j + 1]  # edges (c,e) ... (a,b): reverse e..a
                    if dac + d[e][b] - dab - d[c][e] < -_EPS:
                        self._reverse(j + 1, i)
                        return a, b, c, e
        if i >= 1:  # predecessor direction: edges (p,a) and (e,c) -> (c,a) and (e,p)
            p = t[i - 1]
            dpa = da[p]
            for c in self.near[a]:
                dac = da[c]
                if dac >= dpa:
                    break
                j = pos[c]
                if j < i - 1 and j >= 1:
                    e = t[j - 1]
                    if dac + d[e][p] - dpa - d[e][c] < -_EPS:
                        self._reverse(j, i - 1)
                        return a, p, c, e
                elif j > i + 1:
                    e = t[j - 1]
                    if dac + d[p][e] - dpa - d[e][c] < -_EPS:
                        self._reverse(i, j - 1)
                        return a, p, c, e
        return None

    def _or_opt(self, a: int) -> tuple[int, ...] | None:
        d, t, pos, last = self.d, self.tour, self.pos, len(self.tour) - 1
        start = pos[a]
        for length in range(1, MAX_SEGMENT + 1):
            for i in (start, start - length + 1):  # segments starting or ending at a
                k = i + length - 1
                if i < 1 or k > last - 1:
                    continue
                s0, s1 = t[i], t[k]
                p, nx = t[i - 1], t[k + 1]
                gain = d[p][s0] + d[s1][nx] - d[p][nx]
                if gain <= _EPS:
                    continue
                for end_node, other in ((s0, s1), (s1, s0)):
                    de = d[end_node]
                    for c in self.near[end_node]:
                        if de[c] >= gain:
                            break
                        j = pos[c]
                        if i <= j <= k:
                            continue
                        # insert between c and its successor, end_node next to c
                        if j < last and j != i - 1:
                            c2 = t[j + 1]
                            add = de[c] + d[other][c2] - d[c][c2]
                            if add < gain - _EPS:
                                # forward when s0 sits next to c
                                self._move_segment(i, length, j, reverse=end_node != s0)
                                return p, nx, c, c2, s0, s1
                        # insert between c's predecessor and c, end_node next to c
                        if j >= 1 and j != k + 1:
                            c2 = t[j - 1]
                            add = de[c] + d[other][c2] - d[c2][c]
                            if add < gain - _EPS:
                                target = j - 1  # after c2
                                self._move_segment(i, length, target, reverse=end_node != s1)
                                return p, nx, c, c2, s0, s1
        return None

    def local_search(self, queue: deque[int], queued: list[bool]) -> None:
        end = self.end
        while queue:
            a = queue.popleft()
            queued[a] = False
            if a == end:
                continue
            touched = self._two_opt(a) or self._or_opt(a)
            if touched is None:
                continue
            t = self.tour
            wake = [*touched, t[1], t[-2]]  # the path's free end changed: wake its neighbours
            for node in wake:
                if node != end and not queued[node]:
                    queued[node] = True
                    queue.append(node)

    def full_sweep(self) -> None:
        n = len(self.tour) - 1
        queued = [True] * (n + 1)
        queue = deque(self.tour[:-1])
        self.local_search(queue, queued)

    def length(self) -> float:
        d, t = self.d, self.tour
        return sum(d[t[k]][t[k + 1]] for k in range(len(t) - 1))


def _nearest_neighbour(d: Matrix, n: int) -> list[int]:
    left = set(range(1, n))
    tour = [0]
    while left:
        row = d[tour[-1]]
        nxt = min(left, key=lambda j: (row[j], j))
        left.remove(nxt)
        tour.append(nxt)
    return tour


def _double_bridge(rng: random.Random, tour: list[int]) -> tuple[list[int], list[int]]:
    """A B C D -> A C B D; returns the new tour and the nodes at the cuts. Mostly B and C are
    short (a local kick); one kick in ten cuts anywhere, which is what moves a whole part of the
    path to its free end (the dummy END always stays in D)."""
    inner = len(tour) - 2  # movable positions 1..inner
    if rng.random() < GLOBAL_KICKS:
        p1, p2, p3 = sorted(rng.sample(range(1, inner + 2), 3))
    else:
        span = min(KICK_SPAN, inner // 2)
        p1 = rng.randint(1, inner - 1)
        p2 = min(p1 + rng.randint(1, span), inner)
        p3 = min(p2 + rng.randint(1, span), inner + 1)
    if not p1 < p2 < p3:
        return tour, []
    new = tour[:p1] + tour[p2:p3] + tour[p1:p2] + tour[p3:]
    touched = {tour[p1 - 1], tour[p1], tour[p2 - 1], tour[p2], tour[p3 - 1], tour[p3]}
    return new, sorted(touched)


def solve_open_path(
    dist: Matrix,
    *,
    seed: int = 0,
    kicks: tuple[int, int] | None = None,
    initial: Sequence[int] | None = None,
) -> list[int]:
    """Order of the nodes 0..n-1 of `dist` starting at 0 with a free end (a short open path).

    `kicks` is (stop after this many kicks without improvement, at most this many kicks);
    default `kicks_for(n)`. `initial`, when given, is a starting order (a permutation that
    begins with 0); otherwise nearest neighbour.
    """
    n = len(dist)
    if n <= 3:
        if n == 3 and dist[0][2] + dist[2][1] < dist[0][1] + dist[1][2]:
            return [0, 2, 1]
        return list(range(n))
    search = _Search(dist)
    start = list(initial) if initial is not None else _nearest_neighbour(dist, n)
    search.set_tour([*start, search.end])
    search.full_sweep()
    best = search.tour[:]
    best_len = search.length()
    patience, cap = kicks if kicks is not None else kicks_for(n - 1)
    if n < 6:
        patience = cap = 0  # too short to kick; 2-opt + Or-opt are exact enough here
    rng = random.Random(seed)
    idle = 0
    queued = [False] * (n + 1)
    for _ in range(cap):
        if idle >= patience:
            break
        new, touched = _double_bridge(rng, best)
        if not touched:
            idle += 1
            continue
        search.set_tour(new)
        queue: deque[int] = deque()
        for node in touched:
            if node != search.end:
                queued[node] = True
                queue.append(node)
        search.local_search(queue, queued)
        length = search.length()
        if length < best_len - _EPS:
            best, best_len, idle = search.tour[:], length, 0
        else:
            if length <= best_len:
                best = search.tour[:]
            idle += 1
    # one last full sweep, so the result is a local optimum for every node
    search.set_tour(best)
    search.full_sweep()
    return search.tour[:-1]
