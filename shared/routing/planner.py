"""Choose and order the day's stops: most priority kept, legally, then the least travel.

Rules of this file:
- the objective is lexicographic: first the sum of the kept stops' priorities, then the travel
  distance (the start point is fixed, the end is free: an open path);
- a stop that cannot be visited even as the first stop is skipped with its own reason
  (shared/routing/timing.py); the rest that do not fit are skipped with `no_time`;
- when every possible stop fits in the shortest path's order, that path is the plan (iterated
  local search, shared/routing/tsp.py; not tried when the visits alone outlast the day);
  otherwise three greedy starts (priority first; most priority per second added; the same with
  priority squared), then ruin-and-recreate in three independent chains, one from each start,
  each packing the day its own way (`FLAVOURS`: remove a neighbourhood or a string of stops,
  reinsert by priority or by priority per second added, accept by simulated annealing on
  travel or travel plus finish time: first chasing short routes, then priority), the best chain
  kept, then a swap pass that guarantees no skipped stop could replace a kept stop of lower
  priority, then intra-route 2-opt, exchange and Or-opt that keep every window;
- feasibility of an insertion is O(1) with earliest starts forward and latest starts backward
  (waiting is allowed, so the earliest start is monotone in the arrival time); an insertion
  updates both in place, only as far as they change;
- deterministic: every random choice comes from a generator seeded with a digest of the request.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Final

from shared.errors import InvalidInput
from shared.geo import Point
from shared.routing.distance import distance_matrix, nearest
from shared.routing.model import (
    NO_TIME,
    PRIORITY_RESOLUTION,
    Plan,
    PlanRequest,
    Skip,
)
from shared.routing.timing import NEVER, Interval, day_frame, stop_times
from shared.routing.tsp import path_length, solve_open_path

RUIN_MAX: Final = 15  # stops removed by one ruin at most
ITERATIONS_PER_STOP: Final = 60  # ruin-and-recreate iterations (over all chains) per stop
MAX_ITERATIONS: Final = 4500
IDLE_MIN: Final = 250  # a half-chain stops after max(this, a third of it) idle iterations
# Simulated annealing weighs a point of priority as this much travel: little in the first half
# of each chain (it chases short routes, which leave room for more stops), much in the second.
POINT_M: Final = 60.0
POINT_M_LATE: Final = 2000.0
NEAR: Final = 12  # neighbours considered when a ruin looks for skipped stops to reinsert


@dataclass(frozen=True)
class _Flavour:
    """How one ruin-and-recreate chain searches. Which basin a chain settles in depends on how
    it packs the day, and no single way wins on every instance, so each chain packs differently
    and the best chain's route is kept."""

    ratio_share: float  # share of recreates that insert by priority per second added
    duration: bool  # annealing also counts the finish time: time, not distance, runs out


# Chain k starts from the k-th best greedy start.
FLAVOURS: Final = (_Flavour(0.0, False), _Flavour(0.35, True), _Flavour(0.35, False))


@dataclass
class _Problem:
    """Node 0 is the start; node i >= 1 is stop i-1 of the request."""

    dist: list[list[float]]
    travel: list[list[int]]
    service: list[int]
    windows: list[tuple[Interval, ...]]
    prio: list[int]
    near: list[list[int]]
    mps: float  # metres per second

    def feasible_from(
        self, route: Sequence[int], k: int, early: Sequence[int], late: Sequence[int], upto: int
    ) -> bool:
        """Whether `route` (a changed copy of the route `early`/`late` were computed for) is
        feasible, knowing that only positions k..upto-1 changed and the rest kept its order."""
        prev, ready = (route[k - 1], early[k - 1] + self.service[route[k - 1]]) if k else (0, 0)
        for pos in range(k, upto):
            node = route[pos]
            start = self.earliest(node, ready + self.travel[prev][node])
            if start is None:
                return False
            prev, ready = node, start + self.service[node]
        if upto < len(route):
            return ready + self.travel[prev][route[upto]] <= late[upto]
        return True

    def earliest(self, node: int, t: int) -> int | None:
        for a, b in self.windows[node]:
            if t <= b:
                return a if t < a else t
        return None

    def latest(self, node: int, t: int) -> int | None:
        for a, b in reversed(self.windows[node]):
            if t >= a:
                return b if t > b else t
        return None

    def forward(self, route: Sequence[int]) -> list[int] | None:
        """Earliest start at each stop of the route, None if the route is infeasible."""
        out = []
        prev, ready = 0, 0
        for node in route:
            start = self.earliest(node, ready + self.travel[prev][node])
            if start is None:
                return None
            out.append(start)
            prev, ready = node, start + self.service[node]
        return out

    def backward(self, route: Sequence[int]) -> list[int]:
        """Latest start at each stop that keeps every later stop feasible (route feasible)."""
        out = [0] * len(route)
        bound = NEVER
        for k in range(len(route) - 1, -1, -1):
            node = route[k]
            latest = self.latest(node, bound)
            assert latest is not None  # the route is feasible
            out[k] = latest
            if k:
                bound = latest - self.service[route[k - 1]] - self.travel[route[k - 1]][node]
        return out

    def insert(
        self, route: list[int], early: list[int], late: list[int], pos: int, node: int
    ) -> None:
        """Insert `node` at `pos` (a feasible place) and update `early` and `late` in place:
        only the starts after it can move later and only those before it earlier, and each
        pass stops at the first stop whose time did not change."""
        tr, sv = self.travel, self.service
        route.insert(pos, node)
        early.insert(pos, 0)
        late.insert(pos, 0)
        size = len(route)
        prev, ready = (route[pos - 1], early[pos - 1] + sv[route[pos - 1]]) if pos else (0, 0)
        for k in range(pos, size):
            cur = route[k]
            start = self.earliest(cur, ready + tr[prev][cur])
            assert start is not None  # a feasible insertion
            if k > pos and start == early[k]:
                break
            early[k] = start
            prev, ready = cur, start + sv[cur]
        bound = late[pos + 1] - sv[node] - tr[node][route[pos + 1]] if pos + 1 < size else NEVER
        for k in range(pos, -1, -1):
            cur = route[k]
            latest = self.latest(cur, bound)
            assert latest is not None
            if k < pos and latest == late[k]:
                break
            late[k] = latest
            if k:
                bound = latest - sv[route[k - 1]] - tr[route[k - 1]][cur]

    def best_insertion(
        self,
        route: Sequence[int],
        early: Sequence[int],
        late: Sequence[int],
        node: int,
        rng: random.Random | None = None,
    ) -> tuple[float, int] | None:
        """(added distance, position) of the cheapest feasible insertion of `node`. The hot
        loop of the planner: the distance is checked before the times, and one-window stops
        skip the general `earliest`."""
        d, tr, sv = self.dist, self.travel, self.service
        dn, tn = d[node], tr[node]
        windows = self.windows[node]
        opens, last = windows[0][0], windows[-1][1]
        single = len(windows) == 1
        own = sv[node]
        size = len(route)
        best_delta, best_pos = math.inf, -1
        prev, ready = 0, 0
        for pos in range(size + 1):
            if pos:
                prev = route[pos - 1]
                ready = early[pos - 1] + sv[prev]
            arrival = ready + tr[prev][node]
            if arrival > last:
                break  # later positions only arrive later (triangle inequality)
            if pos < size:
                nxt = route[pos]
                delta = d[prev][node] + dn[nxt] - d[prev][nxt]
            else:
                delta = d[prev][node]
            if delta >= best_delta:
                continue
            if single:
                start = arrival if arrival > opens else opens
            else:
                found = self.earliest(node, arrival)
                assert found is not None  # arrival <= the last window's end
                start = found
            if pos < size and start + own + tn[nxt] > late[pos]:
                continue
            if rng is not None and rng.random() < 0.05:
                continue  # "blinks" let ruin-and-recreate try other positions
            best_delta, best_pos = delta, pos
        return None if best_pos < 0 else (best_delta, best_pos)

    def score(self, route: Sequence[int]) -> tuple[int, float]:
        return sum(self.prio[i] for i in route), path_length(self.dist, [0, *route])


def _key(score: tuple[int, float]) -> tuple[int, float]:
    """Orders scores best last: more priority, then less distance."""
    return score[0], -score[1]


def _seed(request: PlanRequest) -> int:
    parts = [
        f"{request.start.lat!r},{request.start.lon!r},{request.start_time.isoformat()}",
        repr((request.end_time and request.end_time.isoformat(), request.speed_kmh)),
        repr((request.service_minutes, request.detour_factor)),
    ]
    parts += [
        f"{s.id}|{s.location.lat!r}|{s.location.lon!r}|{s.priority!r}|{s.window}|{s.service_minutes}"
        for s in request.stops
    ]
    digest = hashlib.blake2b("\n".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _insert_all(
    problem: _Problem, route: list[int], nodes: Sequence[int], rng: random.Random | None = None
) -> list[int]:
    """Insert each node (in the given order) where it is cheapest, if it fits; returns those
    left out."""
    left = []
    early = problem.forward(route)
    assert early is not None
    late = problem.backward(route)
    for node in nodes:
        found = problem.best_insertion(route, early, late, node, rng)
        if found is None:
            left.append(node)
            continue
        problem.insert(route, early, late, found[1], node)
    return left


def _by_priority(problem: _Problem, nodes: Collection[int]) -> list[int]:
    return sorted(nodes, key=lambda i: (-problem.prio[i], problem.dist[0][i], i))


def _ruin_recreate(
    problem: _Problem,
    route: list[int],
    skipped: set[int],
    rng: random.Random,
    iterations: int,
    flavour: _Flavour,
) -> list[int]:
    cur, cur_score = route, problem.score(route)
    best, best_score = cur, cur_score
    weight = POINT_M / PRIORITY_RESOLUTION
    everyone = set(route) | skipped
    hot = 0.02 * (cur_score[1] + 1000.0)  # simulated annealing temperature, metres

    def cost(score: tuple[int, float], route: Sequence[int]) -> float:
        """Metres: travel, minus priority at `weight`, plus (for a `duration` chain) the
        time the last visit ends as metres at the travel speed (waiting counts there)."""
        value = score[1] - weight * score[0]
        if flavour.duration and route:
            early = problem.forward(route)
            assert early is not None
            value += (early[-1] + problem.service[route[-1]]) * problem.mps
        return value

    cur_cost = cost(cur_score, cur)
    half = max(1, iterations // 2)
    it, idle = 0, 0
    while it < 2 * half:
        if it == half:  # second half: from the best, priority nearly lexicographic
            weight = POINT_M_LATE / PRIORITY_RESOLUTION
            cur, cur_score = best, best_score
            cur_cost = cost(cur_score, cur)
            skipped = everyone - set(best)
            idle = 0
        if not cur:
            break
        if idle > max(IDLE_MIN, half // 3):  # this half stopped finding better routes
            it, idle = (half, 0) if it < half else (2 * half, 0)
            continue
        it += 1
        idle += 1
        new = cur[:]
        seed = rng.choice(new)
        size = rng.randint(1, min(RUIN_MAX, len(new)))
        if rng.random() < 0.5:
            routed = set(new)
            gone = [seed, *[j for j in problem.near[seed] if j in routed][: size - 1]]
            removed = set(gone)
            new = [j for j in new if j not in removed]
        else:
            k = new.index(seed)
            lo = max(0, min(k - rng.randint(0, size - 1), len(new) - size))
            gone = new[lo : lo + size]
            del new[lo : lo + size]
        candidates = set(gone)
        for node in gone:
            candidates.update(j for j in problem.near[node] if j in skipped)
        if skipped:  # a few skipped stops from anywhere, so the route can move to them
            pool = sorted(skipped)
            candidates.update(rng.choices(pool, [problem.prio[j] for j in pool], k=3))
        roll = rng.random()
        if roll < flavour.ratio_share:
            order = _by_ratio(problem, new, candidates, rng)
        elif roll < 0.7:
            order = sorted(candidates, key=lambda i: (-problem.prio[i], rng.random()))
        else:
            order = sorted(candidates, key=lambda i: -problem.prio[i] * (1 + 0.3 * rng.random()))
        left = _insert_all(problem, new, order, rng if rng.random() < 0.5 else None)
        score = problem.score(new)
        temperature = hot * 0.01 ** (((it - 1) % half) / half)
        if _key(score) > _key(best_score):  # a new best is always taken (and polished)
            new = _improve_route(problem, new)
            best, best_score = new, problem.score(new)
            cur, cur_score = best, best_score
            cur_cost = cost(cur_score, cur)
            skipped = everyone - set(best)
            idle = 0
            continue
        new_cost = cost(score, new)
        if new_cost < cur_cost - temperature * math.log(1.0 - rng.random()):
            skipped = (skipped - candidates) | set(left)
            cur, cur_score, cur_cost = new, score, new_cost
    return best


def _by_ratio(
    problem: _Problem, route: list[int], nodes: Collection[int], rng: random.Random
) -> list[int]:
    """`nodes` by priority per second each would add to `route` (its cheapest insertion as if
    it were the only one, 20 % noise), most first; those that do not fit last. Packs a day of
    similar priorities tighter than priority order does."""
    early = problem.forward(route)
    assert early is not None
    late = problem.backward(route)
    keyed = []
    for node in nodes:
        found = problem.best_insertion(route, early, late, node)
        seconds = math.inf if found is None else found[0] / problem.mps + problem.service[node]
        keyed.append((-problem.prio[node] / (seconds + 60) * (1 + 0.2 * rng.random()), node))
    keyed.sort()
    return [node for _, node in keyed]


def _swap_pass(problem: _Problem, route: list[int], skipped: set[int]) -> list[int]:
    """Until no change: insert a skipped stop if it fits, else let it replace the kept stop of
    lowest priority below its own that it can replace. Each change raises the priority sum."""
    changed = True
    while changed:
        changed = False
        for node in _by_priority(problem, skipped):
            if not _insert_all(problem, route, [node]):
                skipped.discard(node)
                changed = True
                break
            weaker = sorted(
                (k for k in route if problem.prio[k] < problem.prio[node]),
                key=lambda k: (problem.prio[k], -problem.dist[0][k], k),
            )
            for k in weaker:
                trial = [j for j in route if j != k]
                if not _insert_all(problem, trial, [node]):
                    route[:] = trial
                    skipped.discard(node)
                    skipped.add(k)
                    changed = True
                    break
            if changed:
                break
    return route


def _improve_route(problem: _Problem, route: list[int]) -> list[int]:
    """2-opt and Or-opt (segments of 1-3) inside the route, keeping it feasible, until no move
    shortens it."""
    d = problem.dist
    improved = True
    while improved:
        improved = False
        early = problem.forward(route)
        assert early is not None
        late = problem.backward(route)
        path = [0, *route]  # path[k + 1] is route[k]
        size = len(route)
        for i in range(size - 1):
            a, b = path[i], path[i + 1]
            for j in range(i + 1, size):
                c = path[j + 1]
                e = path[j + 2] if j + 1 < size else None
                delta = d[a][c] - d[a][b] + (d[b][e] - d[c][e] if e is not None else 0.0)
                if delta < -1e-7:
                    trial = route[:i] + route[i : j + 1][::-1] + route[j + 1 :]
                    if problem.feasible_from(trial, i, early, late, j + 1):
                        route[:] = trial
                        improved = True
                        break
            if improved:
                break
        if improved:
            continue
        for i in range(size - 1):  # exchange two stops
            for j in range(i + 1, size):
                a, b, c = path[i], path[i + 1], path[i + 2]
                x, y = path[j], path[j + 1]
                z = path[j + 2] if j + 1 < size else None
                if j == i + 1:
                    delta = d[a][y] + d[y][b] - d[a][b] - d[b][y]
                    if z is not None:
                        delta += d[b][z] - d[y][z]
                else:
                    delta = d[a][y] + d[y][c] - d[a][b] - d[b][c] + d[x][b] - d[x][y]
                    if z is not None:
                        delta += d[b][z] - d[y][z]
                if delta < -1e-7:
                    trial = route[:]
                    trial[i], trial[j] = trial[j], trial[i]
                    if problem.feasible_from(trial, i, early, late, j + 1):
                        route[:] = trial
                        improved = True
                        break
            if improved:
                break
        if improved:
            continue
        for length in (1, 2, 3):
            for i in range(size - length + 1):
                p, s0, s1 = path[i], path[i + 1], path[i + length]
                nx = path[i + length + 1] if i + length < size else None
                gain = d[p][s0] + (d[s1][nx] - d[p][nx] if nx is not None else 0.0)
                seg = route[i : i + length]
                rest = route[:i] + route[i + length :]
                for q in range(len(rest) + 1):
                    if q == i:
                        continue
                    u = rest[q - 1] if q else 0
                    v = rest[q] if q < len(rest) else None
                    for piece in (seg, seg[::-1]) if length > 1 else (seg,):
                        add = d[u][piece[0]] + (d[piece[-1]][v] - d[u][v] if v is not None else 0.0)
                        if add < gain - 1e-7:
                            trial = rest[:q] + piece + rest[q:]
                            lo = min(i, q)
                            hi = max(i + length, q + length)
                            if problem.feasible_from(trial, lo, early, late, hi):
                                route[:] = trial
                                improved = True
                                break
                    if improved:
                        break
                if improved:
                    break
            if improved:
                break
    return route


def _ratio_greedy(problem: _Problem, nodes: Collection[int], power: float = 1.0) -> list[int]:
    """Insert, one at a time, the stop worth most priority (to `power`) per second it adds."""
    route: list[int] = []
    left = set(nodes)
    while left:
        early = problem.forward(route)
        assert early is not None
        late = problem.backward(route)
        best: tuple[float, int, int] | None = None
        for node in sorted(left):
            found = problem.best_insertion(route, early, late, node)
            if found is None:
                left.discard(node)  # a longer route never makes room again
                continue
            ratio = problem.prio[node] ** power / (
                found[0] / problem.mps + problem.service[node] + 60
            )
            if best is None or ratio > best[0]:
                best = (ratio, node, found[1])
        if best is None:
            break
        route.insert(best[2], best[1])
        left.discard(best[1])
    return route


def _tsp_order(problem: _Problem, nodes: Sequence[int], seed: int) -> list[int]:
    """The nodes in shortest-open-path order from the start."""
    index = [0, *nodes]
    sub = [[problem.dist[a][b] for b in index] for a in index]
    order = solve_open_path(sub, seed=seed)
    return [index[k] for k in order[1:]]


def _build(request: PlanRequest) -> tuple[_Problem, dict[int, str]]:
    frame = day_frame(request)
    points: list[Point] = [request.start, *(s.location for s in request.stops)]
    dist = distance_matrix(points, request.detour_factor)
    speed = request.speed_kmh / 3.6
    travel = [[math.ceil(x / speed) for x in row] for row in dist]
    service = [0] + [
        round(
            60 * (s.service_minutes if s.service_minutes is not None else request.service_minutes)
        )
        for s in request.stops
    ]
    windows: list[tuple[Interval, ...]] = [((0, NEVER),)]
    reasons: dict[int, str] = {}
    for i, stop in enumerate(request.stops, start=1):
        own = None
        if stop.window is not None:
            own = (
                datetime.combine(frame.day, stop.window[0], tzinfo=frame.tz),
                datetime.combine(frame.day, stop.window[1], tzinfo=frame.tz),
            )
        times = stop_times(frame, request.start_time, own, service[i], travel[0][i])
        windows.append(times.windows)
        if times.reason is not None:
            reasons[i] = times.reason
    prio = [0] + [round(s.priority * PRIORITY_RESOLUTION) for s in request.stops]
    n = len(points)
    near = [nearest(dist[i], (j for j in range(1, n) if j != i), NEAR) for i in range(n)]
    return _Problem(dist, travel, service, windows, prio, near, speed), reasons


def solve(request: PlanRequest, effort: float = 1.0) -> Plan:
    """See `plan_route`; `effort` scales the ruin-and-recreate iterations (benchmarks)."""
    problem, reasons = _build(request)
    seed = _seed(request)
    possible = [i for i in range(1, len(problem.dist)) if i not in reasons]
    # The shortest path through all of them, unless their visits alone outlast the day (no
    # order fits then: the search needs no path that is thrown away).
    last_end = max((problem.windows[i][-1][1] + problem.service[i] for i in possible), default=0)
    route: list[int] = []
    if possible and sum(problem.service[i] for i in possible) <= last_end:
        route = _tsp_order(problem, possible, seed)
    skipped: set[int] = set()
    if possible and (not route or problem.forward(route) is None):
        first: list[int] = []
        _insert_all(problem, first, _by_priority(problem, possible))
        starts = [first] + [_ratio_greedy(problem, possible, power) for power in (1.0, 2.0)]
        starts.sort(key=lambda r: _key(problem.score(r)), reverse=True)  # stable: ties keep order
        rng = random.Random(seed)
        iterations = int(effort * min(ITERATIONS_PER_STOP * len(possible), MAX_ITERATIONS))
        iterations = iterations if len(starts[0]) < len(possible) or starts[0] else 0
        chains = [
            _ruin_recreate(
                problem,
                starts[k % len(starts)][:],
                set(possible) - set(starts[k % len(starts)]),
                rng,
                iterations // len(FLAVOURS),
                flavour,
            )
            for k, flavour in enumerate(FLAVOURS)
        ]
        route = max(chains, key=lambda r: _key(problem.score(r)))
        skipped = set(possible) - set(route)
        route = _swap_pass(problem, route, skipped)
        ordered = _tsp_order(problem, route, seed)
        if problem.forward(ordered) is not None and path_length(
            problem.dist, [0, *ordered]
        ) < path_length(problem.dist, [0, *route]):
            route = ordered
            route = _swap_pass(problem, route, skipped)
        route = _improve_route(problem, route)
        route = _swap_pass(problem, route, skipped)
        route = _improve_route(problem, route)
    return _plan(request, problem, route, reasons)


def _plan(
    request: PlanRequest, problem: _Problem, route: list[int], reasons: dict[int, str]
) -> Plan:
    early = problem.forward(route)
    assert early is not None
    origin = request.start_time
    ids = [s.id for s in request.stops]
    kept = set(route)
    skipped = tuple(
        Skip(ids[i - 1], reasons.get(i, NO_TIME))
        for i in sorted(range(1, len(ids) + 1), key=lambda i: (-problem.prio[i], i))
        if i not in kept
    )
    finish = None
    if route:
        finish = origin + timedelta(seconds=early[-1] + problem.service[route[-1]])
    return Plan(
        order=tuple(ids[i - 1] for i in route),
        arrivals={
            ids[i - 1]: origin + timedelta(seconds=t) for i, t in zip(route, early, strict=True)
        },
        skipped=skipped,
        distance_m=round(path_length(problem.dist, [0, *route])),
        finish=finish,
        total_priority=sum(request.stops[i - 1].priority for i in route),
    )


def plan_route(request: PlanRequest, *, effort: float = 1.0) -> Plan:
    """The day's plan for a request (see the package docstring). `effort` in (0, 1] scales the
    search (not the rules: every plan is legal): a slow phone plans with less."""
    if not 0 < effort <= 1:
        raise InvalidInput(f"effort must be in (0, 1], not {effort}", code="invalid_effort")
    return solve(request, effort=effort)


def replan(
    request: PlanRequest,
    *,
    position: Point,
    at: datetime,
    done: Collection[str] = (),
    effort: float = 1.0,
) -> Plan:
    """Plan the rest of the day from where the collector is now: the stops not in `done`
    (visited, or skipped on purpose), starting at `position` at `at`."""
    remaining = tuple(s for s in request.stops if s.id not in set(done))
    return plan_route(
        replace(request, start=position, start_time=at, stops=remaining), effort=effort
    )
