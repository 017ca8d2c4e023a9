"""How long a client waited for a CPU: the part of a recorded delay that is the machine's, not the client's.

On a loaded machine a client that sleeps exactly 1 s between retries is recorded as waiting 1.2 s or more: after
golive's answer it waits in the run queue before it can read it, and again after its sleep before it can send
the retry. Linux counts that time per thread (`/proc/<pid>/task/<tid>/schedstat`, second field: nanoseconds
spent runnable but not running). The proxy reads it for the client and every process it started right after
a request arrives and right before it answers, and the timing judges subtract what was lost in between from
the delay.

The correction must never shorten a delay below what the client really waited, so it counts only what the
thread that slept can have lost:
- only threads that were blocked (not runnable) when golive answered: the thread waiting for that answer is
  blocked on its socket, a busy helper thread (a JIT compiler, a worker) is runnable and is left out;
- of those, the one that lost most (threads waiting side by side are not added up, so the correction never
  exceeds the delay's wall time); threads and processes started meanwhile are left out;
- less the time between the request's arrival and golive's read of it (`slack`): a client preempted just after
  sending loses time that belongs to no delay, and it cannot have lost more of it than that.
Where /proc gives nothing (another OS, a process that has exited) nothing is subtracted: the delay is judged as
recorded, which only ever makes it longer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

Snapshot = Mapping[int, tuple[int, bool]]  # thread id -> (nanoseconds spent waiting for a CPU so far, blocked now)
MAX_PROCESSES = 256  # a client that forks more than this is not timed past them


def snapshot(root: int) -> dict[int, tuple[int, bool]]:
    """Every thread of process `root` and of its descendants (at most MAX_PROCESSES processes)."""
    threads: dict[int, tuple[int, bool]] = {}
    pending, seen = [root], set[int]()
    while pending and len(seen) < MAX_PROCESSES:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:  # exited meanwhile
            continue
        for tid in tasks:
            folder = f"/proc/{pid}/task/{tid}"
            try:
                with open(f"{folder}/stat", "rb") as stat:
                    line = stat.read()
                with open(f"{folder}/schedstat", "rb") as schedstat:
                    wait = int(schedstat.read().split()[1])
                with open(f"{folder}/children", "rb") as children:
                    pending.extend(int(child) for child in children.read().split())
            except (OSError, ValueError, IndexError):  # exited meanwhile, or no schedstat on this kernel
                continue
            # the command name is in parentheses and may hold spaces; the state follows it
            threads[int(tid)] = (wait, line[line.rindex(b")") + 2 : line.rindex(b")") + 3] != b"R")
    return threads


def waited(before: Snapshot | None, after: Snapshot | None, slack: float = 0.0) -> float:
    """Seconds the client lost waiting for a CPU between two snapshots, as the module's docstring counts them."""
    if not before or not after:
        return 0.0
    lost = max((after[tid][0] - wait for tid, (wait, blocked) in before.items() if blocked and tid in after), default=0)
    return max(0.0, lost / 1e9 - slack)
