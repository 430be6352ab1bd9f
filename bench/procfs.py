"""What Linux's /proc says of processes on this machine: CPU time used, and who is whose child.

The benchmarks read it to split the CPU of a measurement between the processes that did the work (the web
workers, PostgreSQL's backends, this process); elsewhere than Linux every reading is None or empty.
"""
from __future__ import annotations

import os


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds process `pid` has used so far (user + system); None when it is not (or no longer) there."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command line with its arguments joined by spaces) of every process in /proc."""
    if not os.path.isdir("/proc/self"):
        return []
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append((int(entry), parent, command))
    return found
