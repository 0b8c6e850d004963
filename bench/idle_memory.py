"""Whether memory left alone for a moment is slow to touch again on this machine.

    python bench/idle_memory.py [--pauses 0 1.2 3] [--strings 10500] [--rounds 3]

Holds a dict of ``--strings`` strings of about 900 characters (the rendered bodies of a
10,000-event site) among 200 MB of other objects, and times, each after its own pause, a
loop of arithmetic that touches no memory, a first pass over the strings, and a copy of
the dict (what the dev server does to the map of bodies on each edit). On an ordinary
machine the three do not depend on the pause; see docs/benchmarks.md ("Live preview",
ninth session) for this machine, where the last two did.
"""

from __future__ import annotations

import argparse
import time


def arithmetic() -> None:
    total = 0
    for i in range(200_000):
        total += i * i


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pauses", type=float, nargs="+", default=[0, 1.2, 3])
    parser.add_argument("--strings", type=int, default=10_500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--other-mb", type=int, default=200)
    args = parser.parse_args()
    strings = {f"body {i}": f"x{i}" * (900 // len(f"x{i}")) for i in range(args.strings)}
    other = [bytes(1000) for _ in range(args.other_mb * 1000)]

    def first_pass() -> None:
        sum(map(len, strings.values()))

    def copy() -> None:
        dict(strings)

    for pause in args.pauses:
        for _ in range(args.rounds):
            times = []
            for step in (arithmetic, first_pass, copy):
                time.sleep(pause)  # before each step: else the first warms the next
                started = time.perf_counter()
                step()
                times.append((time.perf_counter() - started) * 1000)
            print(
                f"pause {pause} s: arithmetic {times[0]:.1f} ms, first pass over the strings "
                f"{times[1]:.1f} ms, copying the dict {times[2]:.1f} ms"
            )
    del other


if __name__ == "__main__":
    main()
