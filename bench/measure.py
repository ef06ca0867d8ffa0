"""Run one command and print its wall time, CPU time and peak RSS as JSON (one line).

    python -I -S bench/measure.py TIMEOUT LOG [--no-tree] -- COMMAND [ARGS...]

Why a separate small process: Linux counts, in a child's peak RSS (``ru_maxrss``), the
high-water RSS of the address space it replaced at ``exec`` — and with ``vfork``/``posix_spawn``
(what Python's subprocess uses) that address space is the *parent's*. Measured from the
benchmark process itself, which reads PDFs of 90 MB, every child would report at least the
benchmark's own peak. Spawned from this launcher, which imports nothing but a few standard
modules, a child's figure is exact down to this launcher's own ~10 MB.

The command's output goes to LOG; it is killed after TIMEOUT seconds. Uses ``os.wait4`` for
the rusage of that child (and of the children it waited for, e.g. WeasyPrint under pandoc):
its ``ru_maxrss`` is the largest of those processes, not their sum. So the memory of the whole
process tree is also sampled every 20 ms (the sum of each process's PSS, from
``/proc/PID/smaps_rollup``): ``peak_tree_mb``, the figure to compare when a command runs
several processes at once (the builder's parallel layout, pandoc and its PDF engine).

The sampling slows what it watches: reading ``smaps_rollup`` walks each process's page tables
under its memory-map lock, and a build of several processes that map 90 MB PDFs ran 10-30 %
longer while sampled (bare WeasyPrint 9 %, the builder's PDF-only build 20 %, its rebuild
30 %). So runs that are timed are not sampled (``--no-tree``: ``peak_tree_mb`` is null), and
the memory comes from runs of their own.
"""

import json
import os
import signal
import sys
import time


def main() -> int:
    timeout, log = float(sys.argv[1]), sys.argv[2]
    rest = sys.argv[3:]
    sample = not (rest and rest[0] == "--no-tree")
    rest = rest[0 if sample else 1:]
    if not rest or rest[0] != "--" or len(rest) < 2:
        print("usage: measure.py TIMEOUT LOG [--no-tree] -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    cmd = rest[1:]
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
               (os.POSIX_SPAWN_DUP2, 1, 2)]
    start = time.perf_counter()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)
    signal.signal(signal.SIGALRM, lambda *_: os.kill(pid, signal.SIGKILL))
    signal.setitimer(signal.ITIMER_REAL, timeout)
    tree_peak = 0
    while sample:  # the process tree's memory, sampled, until the child ends
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        tree_peak = max(tree_peak, tree_pss(pid))
        time.sleep(SAMPLE_S)
    if not sample:
        _, status, usage = os.wait4(pid, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    wall = time.perf_counter() - start
    print(json.dumps({
        "wall_s": round(wall, 3), "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "user_s": round(usage.ru_utime, 3), "sys_s": round(usage.ru_stime, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "peak_tree_mb": round(tree_peak / 1024, 1) if sample else None,
        "returncode": os.waitstatus_to_exitcode(status)}))
    return 0


SAMPLE_S = 0.02


def tree_pss(pid: int) -> int:
    """The PSS (kB) of ``pid`` and all its descendants: what they hold together, each shared
    page counted once in all (a forked worker's pages shared with its parent are not counted
    twice, as the sum of their RSS would)."""
    total, todo, seen = 0, [pid], set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, ValueError):
            continue  # it ended meanwhile
    return total


if __name__ == "__main__":
    raise SystemExit(main())
