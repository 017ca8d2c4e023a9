"""How long a client waited for a CPU: the part of a recorded delay that is the machine's, not the client's.

On a loaded machine a client that sleeps exactly 1 s between retries is recorded as waiting 1.2 s or more: after
golive's answer it waits in the run queue before it can read it, and again after its sleep before it can send
the retry. Linux counts that time per thread (`/proc/<pid>/task/<tid>/schedstat`, second field: nanoseconds
spent runnable but not running). The proxy reads it for the client and every process it started right after
a request arrives and right before it answers, and the timing judges subtract what was lost in between from
the delay.

The correction must never shorten a delay below what the client really waited, so it counts only waits that
cannot lie inside the client's sleep, and only where it knows which thread slept:
- exactly one thread of the client (and of what it started) ran between the two reads, and it was blocked
  (on its socket, waiting for golive's answer) when golive answered; else nothing is subtracted: with a
  heartbeat thread, a busy helper (a JIT compiler, a worker) or a shell's curl and sleep, which one slept and
  whose waits lie inside whose sleep is unknown;
- that thread may have blocked at most twice in between (voluntary context switches: its sleep, and its wait
  for the next answer). A thread that woke up during its sleep (another timer in an event loop, a signal) may
  have waited in the run queue inside a sleep whose deadline absorbed the wait: nothing is subtracted. Being
  preempted while it works (involuntary switches) is waiting outside any sleep, and counts;
- less the time between the request's arrival and golive's read of it (`slack`): a client preempted just after
  sending loses time that belongs to no delay, and it cannot have lost more of it than that.
Where /proc gives nothing (another OS, a process that has exited) nothing is subtracted: the delay is judged as
recorded, which only ever makes it longer.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

Snapshot = Mapping[int, "Thread"]
MAX_PROCESSES = 256  # a client that forks more than this is not timed past them
BLOCKINGS = 2  # its sleep, and its wait for the next answer


@dataclass(frozen=True, slots=True)
class Thread:
    waited_ns: int  # runnable but not running, so far (schedstat, second field)
    ran_ns: int  # on a CPU, so far (schedstat, first field)
    blockings: int  # voluntary context switches so far (it blocked: a sleep, a read)
    blocked: bool  # not runnable at the moment of the snapshot


def snapshot(root: int) -> dict[int, Thread]:
    """Every thread of process `root` and of its descendants (at most MAX_PROCESSES processes)."""
    threads: dict[int, Thread] = {}
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
                    ran, waited = (int(field) for field in schedstat.read().split()[:2])
                with open(f"{folder}/status", "rb") as status:
                    rows = status.read().splitlines()
                blockings = int(next(row for row in rows if row.startswith(b"voluntary_ctxt_switches:")).split()[1])
                with open(f"{folder}/children", "rb") as children:
                    pending.extend(int(child) for child in children.read().split())
            except (OSError, ValueError, IndexError, StopIteration):  # exited meanwhile, or no schedstat on this kernel
                continue
            # the command name is in parentheses and may hold spaces; the state follows it
            after_name = line.rindex(b")") + 2
            threads[int(tid)] = Thread(waited, ran, blockings, line[after_name : after_name + 1] != b"R")
    return threads


def waited(before: Snapshot | None, after: Snapshot | None, slack: float = 0.0) -> float:
    """Seconds the client lost waiting for a CPU between two snapshots, as the module's docstring counts them."""
    if not before or not after:
        return 0.0
    ran = [tid for tid, thread in after.items() if tid not in before or thread.ran_ns != before[tid].ran_ns]
    if len(ran) != 1 or ran[0] not in before or not before[ran[0]].blocked:  # several ran, a new one, or a busy one
        return 0.0
    was, now = before[ran[0]], after[ran[0]]
    if now.blockings - was.blockings > BLOCKINGS:
        return 0.0
    return max(0.0, (now.waited_ns - was.waited_ns) / 1e9 - slack)
