"""Route planning (issue 5): the pure-Python planner next to LKH-3 (elkai), VROOM (pyvroom) and
OR-Tools, measured in the same run on the same matrices.

1. Open path (start at the collector, free end), seeded Bogotá instances, uniform and clustered,
   n = 10..150: gap to LKH (RUNS=10, the near-optimal reference) and time per instance.
2. Windows, day end and priorities (one collector's zone, 08:00-17:00, 10-minute visits, 30 % of
   clients 09:00-12:00 and 15 % 14:00-17:00, 10 % with a promise due today): total priority
   kept, travel when both keep the same stops, time; every plan is checked against the windows
   and the day end.

Everything runs on one core: our planner is single-threaded, VROOM gets `nb_threads=1` and
OR-Tools is single-threaded. Times are CPU time around the call (`time.process_time()`, so a
busy machine does not inflate them), median of the repeats, matrix building included for ours
since the phone pays for it. OR-Tools' time limit is wall clock, so on a busy machine it gets
less than its second of CPU. The bench group
(`uv sync --group bench`, done by `make bench`) provides elkai, pyvroom and ortools; they are
never shipped.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from datetime import time as clock
from functools import partial

from benchmarks import machine, write_section
from shared.geo import Point
from shared.routing import PlanRequest, Stop, plan_route
from shared.routing.distance import distance_matrix

SIZES = (10, 25, 50, 100, 150)
SEEDS = (1, 2, 3)
LAYOUTS = ("uniform", "clustered")
BOX = (4.45, 4.83, -74.20, -74.00)  # Bogotá
ZONE = (4.60, 4.68, -74.10, -74.04)  # one collector's zone (about 9 x 6.7 km)
BOGOTA = timezone(timedelta(hours=-5))
DAY = datetime(2026, 11, 23, 8, 0, tzinfo=BOGOTA)  # a Monday, not a holiday
ORTOOLS_SECONDS = 1

Matrix = list[list[float]]


# -- instances ----------------------------------------------------------------------------------


def points(n: int, layout: str, seed: int, box: tuple[float, float, float, float]) -> list[Point]:
    """The collector's position first, then n clients."""
    rng = random.Random(f"{layout}-{n}-{seed}")
    lat0, lat1, lon0, lon1 = box
    depot = Point(rng.uniform(lat0, lat1), rng.uniform(lon0, lon1))
    if layout == "uniform":
        return [depot] + [Point(rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)) for _ in range(n)]
    # about one neighbourhood per 12 clients, uneven sizes, spread 330 m .. 1.1 km
    k = max(1, round(n / 12))
    centres = [(rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)) for _ in range(k)]
    spread = [rng.uniform(0.003, 0.010) for _ in range(k)]
    weights = [rng.gammavariate(1.0, 1.0) for _ in range(k)]
    out = [depot]
    while len(out) <= n:
        c = rng.choices(range(k), weights)[0]
        lat = rng.gauss(centres[c][0], spread[c])
        lon = rng.gauss(centres[c][1], spread[c])
        if lat0 <= lat <= lat1 and lon0 <= lon <= lon1:
            out.append(Point(lat, lon))
    return out


def length(d: Matrix, order: Sequence[int]) -> float:
    return sum(d[a][b] for a, b in itertools.pairwise(order))


def timed(fn: Callable[[], list[int]], repeats: int) -> tuple[list[int], float]:
    times, result = [], []
    for _ in range(repeats):
        t0 = time.process_time()
        result = fn()
        times.append(time.process_time() - t0)
    return result, statistics.median(times) * 1000


# -- solvers for the open path --------------------------------------------------------------------


def ours(pts: list[Point]) -> list[int]:
    stops = tuple(Stop(str(i), p) for i, p in enumerate(pts[1:], start=1))
    req = PlanRequest(start=pts[0], start_time=DAY, stops=stops, rules=None, detour_factor=1.0)
    return [0, *(int(s) for s in plan_route(req).order)]


def lkh(d: Matrix) -> list[int]:
    """elkai on a symmetric matrix with a dummy X: d(X, start) = 0, d(X, i) = M, which makes
    the optimal tour an optimal open path from the start (checked in the research)."""
    import elkai

    n = len(d)
    scaled = [[round(x * 10) for x in row] for row in d]  # decimetres: LKH wants integers
    big = 2 * max(max(row) for row in scaled) + 1
    matrix = [[*row, 0 if i == 0 else big] for i, row in enumerate(scaled)]
    matrix.append([0] + [big] * (n - 1) + [0])
    tour: list[int] = elkai.DistanceMatrix(matrix).solve_tsp(runs=10)[:-1]
    k = tour.index(n)
    cycle = tour[k + 1 :] + tour[:k]  # starts next to X
    return cycle if cycle[0] == 0 else cycle[::-1]


def vroom_path(d: Matrix) -> list[int]:
    import vroom

    problem = vroom.Input()
    problem.set_durations_matrix("car", [[round(x * 10) for x in row] for row in d])
    problem.add_vehicle(vroom.Vehicle(1, start=0))
    problem.add_job([vroom.Job(i, location=i) for i in range(1, len(d))])
    solution = problem.solve(exploration_level=5, nb_threads=1)
    routes = solution.routes
    jobs = routes[routes["type"] == "job"]["location_index"].tolist()
    return [0, *(int(j) for j in jobs)]


def ortools_path(d: Matrix) -> list[int]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(d)
    end = n  # a dummy end at distance 0 from everybody
    ext = [[round(x * 10) for x in row] + [0] for row in d] + [[0] * (n + 1)]
    manager = pywrapcp.RoutingIndexManager(n + 1, 1, [0], [end])
    routing = pywrapcp.RoutingModel(manager)

    def cost(i: int, j: int) -> int:
        return int(ext[manager.IndexToNode(i)][manager.IndexToNode(j)])

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(cost))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.seconds = ORTOOLS_SECONDS
    solution = routing.SolveWithParameters(params)
    index, order = routing.Start(0), []
    while not routing.IsEnd(index):
        order.append(manager.IndexToNode(index))
        index = solution.Value(routing.NextVar(index))
    return order


def tsp_section() -> str:
    rows = []
    for n in SIZES:
        gaps: dict[str, list[float]] = {"ours": [], "vroom": [], "ortools": []}
        ms: dict[str, list[float]] = {"ours": [], "lkh": [], "vroom": [], "ortools": []}
        for layout in LAYOUTS:
            for seed in SEEDS:
                pts = points(n, layout, seed, BOX)
                d = distance_matrix(pts)
                ref, ms_lkh = timed(partial(lkh, d), 1)
                ms["lkh"].append(ms_lkh)
                best = length(d, ref)
                runs = {
                    "ours": (partial(ours, pts), 3),
                    "vroom": (partial(vroom_path, d), 1),
                    "ortools": (partial(ortools_path, d), 1),
                }
                for name, (fn, repeats) in runs.items():
                    order, elapsed = timed(fn, repeats)
                    assert sorted(order) == list(range(n + 1)) and order[0] == 0, name
                    gaps[name].append(100 * (length(d, order) / best - 1))
                    ms[name].append(elapsed)
        rows.append(
            f"| {n} | {statistics.mean(gaps['ours']):.2f} % / {max(gaps['ours']):.2f} % "
            f"| {statistics.median(ms['ours']):.0f} / {max(ms['ours']):.0f} "
            f"| {statistics.median(ms['lkh']):.0f} "
            f"| {statistics.mean(gaps['vroom']):.2f} % / {max(gaps['vroom']):.2f} % "
            f"| {statistics.median(ms['vroom']):.0f} "
            f"| {statistics.mean(gaps['ortools']):.2f} % / {max(gaps['ortools']):.2f} % "
            f"| {statistics.median(ms['ortools']):.0f} |"
        )
        print(rows[-1], flush=True)  # noqa: T201
    return "\n".join(
        [
            "Open path, gap to LKH-3 (elkai, RUNS=10) as mean / max over 6 instances "
            "(3 seeds x uniform and clustered), times in ms (median; ours also max):",
            "",
            "| n | ours gap | ours ms (median / max) | LKH ms | VROOM gap | VROOM ms "
            f"| OR-Tools GLS {ORTOOLS_SECONDS} s gap | OR-Tools ms |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )


# -- windows, day end and priorities -------------------------------------------------------------


def day_instance(n: int, seed: int) -> PlanRequest:
    rng = random.Random(f"day-{n}-{seed}")
    pts = points(n, "clustered", seed, ZONE)
    stops = []
    for i, p in enumerate(pts[1:], start=1):
        roll = rng.random()
        window = None
        if roll < 0.30:
            window = (clock(9), clock(12))
        elif roll < 0.45:
            window = (clock(14), clock(17))
        balance = rng.lognormvariate(math.log(800_000), 1.2)
        priority = max(1, min(99, round(20 * (math.log10(balance) - 4))))
        if rng.random() < 0.10:
            priority = 100  # promise due today
        stops.append(Stop(str(i), p, priority=priority, window=window))
    return PlanRequest(
        start=pts[0],
        start_time=DAY,
        end_time=DAY.replace(hour=17),
        stops=tuple(stops),
        speed_kmh=18,
        service_minutes=10,
        detour_factor=1.35,
    )


def _travel(req: PlanRequest) -> list[list[int]]:
    d = distance_matrix([req.start, *(s.location for s in req.stops)], req.detour_factor)
    speed = req.speed_kmh / 3.6
    return [[math.ceil(x / speed) for x in row] for row in d]


def _offset(hour: int) -> int:
    return hour * 3600 - 8 * 3600


def check(req: PlanRequest, travel: list[list[int]], order: list[int]) -> int:
    """Window / day-end violations of an order, by plain simulation."""
    bad, at, here = 0, 0, 0
    for node in order:
        stop = req.stops[node - 1]
        start = at + travel[here][node]
        if stop.window is not None:
            start = max(start, _offset(stop.window[0].hour))
            bad += start > _offset(stop.window[1].hour)
        at, here = start + 600, node
        bad += at > _offset(17)
    return bad


def ours_day(req: PlanRequest) -> list[int]:
    return [0, *(int(s) for s in plan_route(req).order)]


def vroom_day(req: PlanRequest, travel: list[list[int]]) -> list[int]:
    import vroom

    problem = vroom.Input()
    problem.set_durations_matrix("car", travel)
    problem.add_vehicle(vroom.Vehicle(1, start=0, time_window=vroom.TimeWindow(0, _offset(17))))
    jobs = []
    for i, stop in enumerate(req.stops, start=1):
        windows: tuple[vroom.TimeWindow, ...] = ()
        if stop.window is not None:
            a, b = stop.window
            windows = (vroom.TimeWindow(_offset(a.hour), _offset(b.hour)),)
        jobs.append(
            vroom.Job(i, location=i, default_service=600, priority=int(stop.priority),
                      time_windows=windows)
        )  # fmt: skip
    problem.add_job(jobs)
    solution = problem.solve(exploration_level=5, nb_threads=1)
    routes = solution.routes
    return [0, *(int(j) for j in routes[routes["type"] == "job"]["location_index"].tolist())]


DAY_REPEATS = 3  # CPU time on a shared machine varies by tens of %: median of 3, both solvers


def day_section() -> str:
    rows = []
    results: list[tuple[float, float, float, float]] = []  # priority and ms, ours and VROOM's
    for n in (40, 60, 100, 150):
        for seed in SEEDS:
            req = day_instance(n, seed)
            travel = _travel(req)
            d = distance_matrix([req.start, *(s.location for s in req.stops)], req.detour_factor)
            plan, ms_ours = timed(partial(ours_day, req), DAY_REPEATS)
            theirs, ms_vroom = timed(partial(vroom_day, req, travel), DAY_REPEATS)
            prio = [0.0] + [s.priority for s in req.stops]
            mine_p = sum(prio[i] for i in plan)
            their_p = sum(prio[i] for i in theirs)
            results.append((mine_p, their_p, ms_ours, ms_vroom))
            same = set(plan) == set(theirs)
            travel_cmp = (
                f"{100 * (length(d, plan) / length(d, theirs) - 1):+.2f} %" if same else "-"
            )
            promises = sum(1 for i, s in enumerate(req.stops, 1) if s.priority == 100)
            rows.append(
                f"| {n} ({seed}) | {promises} | {len(plan) - 1} / {len(theirs) - 1} "
                f"| {mine_p:.0f} / {their_p:.0f} "
                f"| {sum(1 for i in range(1, n + 1) if prio[i] == 100 and i not in plan)} / "
                f"{sum(1 for i in range(1, n + 1) if prio[i] == 100 and i not in theirs)} "
                f"| {length(d, plan) / 1000:.1f} / {length(d, theirs) / 1000:.1f} | {travel_cmp} "
                f"| {check(req, travel, plan[1:])} / {check(req, travel, theirs[1:])} "
                f"| {ms_ours:.0f} / {ms_vroom:.0f} |"
            )
            print(rows[-1], flush=True)  # noqa: T201
    return "\n".join(
        [
            "Windows, day end and priorities (clustered clients in one zone, 08:00-17:00, "
            "18 km/h, detour 1.35, 10-minute visits; VROOM level 5, 1 thread, same travel-time "
            "matrix). Cells are ours / VROOM:",
            "",
            "| n (seed) | promises | visits | priority kept | promises skipped | km "
            "| travel vs VROOM (same stops) | window or day-end violations | ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Over the {len(results)} instances: priority kept {sum(r[0] for r in results):.0f} "
            f"against {sum(r[1] for r in results):.0f}, below VROOM's on "
            f"{sum(r[0] < r[1] for r in results)}, equal on {sum(r[0] == r[1] for r in results)}; "
            f"CPU time {sum(r[2] for r in results) / 1000:.1f} s against "
            f"{sum(r[3] for r in results) / 1000:.1f} s, faster on "
            f"{sum(r[2] < r[3] for r in results)} (median of {DAY_REPEATS} runs each).",
        ]
    )


def main() -> None:
    started = time.perf_counter()
    tsp = tsp_section()
    day = day_section()
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    write_section(
        "route_plan",
        "\n".join(
            [
                "## Route planning (`benchmarks/route_plan.py`)",
                "",
                f"Machine: {machine()}; load average {load}. Times are CPU time of this "
                "process (`time.process_time()`), so other work on the machine does not count; "
                f"the run took {time.perf_counter() - started:.0f} s of wall clock.",
                "",
                tsp,
                "",
                day,
            ]
        ),
    )


if __name__ == "__main__":
    main()
