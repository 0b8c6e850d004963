"""The actor network: which actors appear together in events, and how often, laid out at
build time for a static SVG.

Pure functions of the linked timeline. Only the most connected actors are drawn, so the
picture (and the page) stays the same size for ten events or ten thousand. The layout is
a circle, in an order that puts actors who often appear together side by side; nothing
is random, so the same timeline always gives the same bytes.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from generator.model import Term, Timeline

NODE_LIMIT = 50
EDGE_LIMIT = 150
SIZE = 1000  # the SVG's viewBox is SIZE x SIZE
RADIUS = 300  # of the circle the nodes sit on; the rest is room for labels
LABEL_CHARS = 26  # longer names are shortened in the picture, never in the table

Pair = tuple[str, str]  # two actor slugs, in sorted order


@dataclass(frozen=True)
class Node:
    term: Term
    weight: int  # co-appearances with the other actors drawn
    x: float
    y: float
    r: float
    label: str
    label_x: float
    label_y: float
    rotate: float  # degrees, so the label points away from the centre
    anchor: str  # "start" on the right half, "end" on the left


@dataclass(frozen=True)
class Edge:
    a: Term
    b: Term
    count: int  # events naming both
    path: str  # SVG path data
    width: float


@dataclass(frozen=True)
class Network:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]  # most frequent first
    actors: int  # actors that appear with at least one other, drawn or not
    size: int = SIZE


def co_appearances(timeline: Timeline) -> Counter[Pair]:
    """How many events name each pair of actors."""
    pairs: Counter[Pair] = Counter()
    for links in timeline.links.values():
        slugs = sorted({t.slug for t in links.actors})
        for i, a in enumerate(slugs):
            for b in slugs[i + 1 :]:
                pairs[(a, b)] += 1
    return pairs


def build_network(
    timeline: Timeline, node_limit: int = NODE_LIMIT, edge_limit: int = EDGE_LIMIT
) -> Network:
    pairs = co_appearances(timeline)
    totals: Counter[str] = Counter()
    for (a, b), count in pairs.items():
        totals[a] += count
        totals[b] += count
    actors = timeline.actors
    ranked = sorted(totals, key=lambda s: (-totals[s], actors[s].name.casefold(), s))
    chosen = set(ranked[:node_limit])
    kept = [(p, c) for p, c in pairs.items() if p[0] in chosen and p[1] in chosen]
    kept.sort(key=lambda pc: (-pc[1], actors[pc[0][0]].name.casefold(), pc[0]))
    kept = kept[:edge_limit]
    weights: Counter[str] = Counter()
    for (a, b), count in kept:
        weights[a] += count
        weights[b] += count
    order = circle_order([s for s in ranked if s in chosen], dict(kept))
    nodes = _place(order, actors, weights)
    at = {n.term.slug: n for n in nodes}
    top = max((c for _, c in kept), default=1)
    edges = tuple(
        Edge(actors[a], actors[b], count, _curve(at[a], at[b]), _width(count, top))
        for (a, b), count in kept
    )
    return Network(tuple(nodes), edges, len(totals))


def circle_order(slugs: Iterable[str], pairs: Mapping[Pair, int]) -> list[str]:
    """Greedy order around the circle: start with the first (most connected) actor, then
    keep adding the actor most tied to the last few placed, so clusters sit together."""
    remaining = list(slugs)
    if not remaining:
        return []
    ties: dict[str, Counter[str]] = {s: Counter() for s in remaining}
    for (a, b), count in pairs.items():
        ties[a][b] += count
        ties[b][a] += count
    order = [remaining.pop(0)]
    while remaining:
        recent = order[-3:]

        def pull(slug: str, recent: list[str] = recent) -> tuple[int, int]:
            near = sum(ties[slug][r] * (i + 1) for i, r in enumerate(recent))
            return near, sum(ties[slug][o] for o in order)

        best = max(remaining, key=pull)  # max keeps the first of equals: rank order
        remaining.remove(best)
        order.append(best)
    return order


def _place(order: list[str], actors: Mapping[str, Term], weights: Counter[str]) -> list[Node]:
    centre = SIZE / 2
    most = max((len(actors[s].events) for s in order), default=1)
    nodes = []
    for i, slug in enumerate(order):
        angle = 2 * math.pi * i / len(order) - math.pi / 2  # the first at the top
        cos, sin = math.cos(angle), math.sin(angle)
        term = actors[slug]
        r = 5 + 9 * math.sqrt(len(term.events) / most)
        right = cos >= -1e-9
        degrees = math.degrees(angle) if right else math.degrees(angle) + 180
        label = _shorten(term.name)
        nodes.append(
            Node(
                term=term,
                weight=weights[slug],
                x=_round(centre + RADIUS * cos),
                y=_round(centre + RADIUS * sin),
                r=_round(r),
                label=label,
                label_x=_round(centre + (RADIUS + r + 8) * cos),
                label_y=_round(centre + (RADIUS + r + 8) * sin),
                rotate=_round(degrees),
                anchor="start" if right else "end",
            )
        )
    return nodes


def _shorten(name: str) -> str:
    """The start of a long name, cut at a word; the template adds the ellipsis, hidden
    from screen readers, so the accessible name (the full name) still starts with the
    visible text."""
    if len(name) <= LABEL_CHARS:
        return name
    cut = name[: LABEL_CHARS - 1]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def _curve(a: Node, b: Node) -> str:
    """A curve bowed towards the centre, so edges between distant actors do not all cross
    at one point and edges between neighbours stay short."""
    centre = SIZE / 2
    mid_x, mid_y = (a.x + b.x) / 2, (a.y + b.y) / 2
    cx, cy = centre + (mid_x - centre) * 0.35, centre + (mid_y - centre) * 0.35
    return f"M{a.x:g} {a.y:g}Q{_round(cx):g} {_round(cy):g} {b.x:g} {b.y:g}"


def _width(count: int, top: int) -> float:
    return _round(1 + 7 * math.sqrt(count / top))


def _round(value: float) -> float:
    result = round(value, 1)
    return 0.0 if result == 0 else result  # no "-0" in the output
