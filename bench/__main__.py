"""Run every benchmark, one after another, each in its own process: python -m bench

At the end, the suite checks that it left nothing behind: no new entry in the temporary folder and
no process of its own still running."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SUITE = (
    ["bench.intake", "--residents", "60"],
    # one update's statements down six paths to SQLite, against raw sqlite3 (the floor)
    ["bench.sqlpaths"],
    # handling one update in process, against a bare Dispatcher
    ["bench.handling"],
    # update → reply with the default pacing: idle, one resident answering at once, 20 updates/s
    ["bench.latency"],
    ["bench.outbox_pacing"],
    ["bench.lostfound", "quality"],
    ["bench.lostfound", "speed"],
    # /stats, the sweep, start-up and memory at 10k, 100k and 1M tickets, each database built once
    ["bench.scale"],
    # two replicas ÷ one, behind nginx on PostgreSQL and Redis (scripts/services.sh start DIR)
    ["bench.replicas", "--residents", "120"],
)


def children() -> list[str]:
    """Processes whose parent is this one (a bot or sandbox left running)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.append(stat.parent.name)
    return found


if __name__ == "__main__":
    temp = Path(tempfile.gettempdir())
    before = set(temp.iterdir())
    began = time.perf_counter()
    failed = 0
    for module, *args in SUITE:
        print(f"$ python -m {module} {' '.join(args)}".rstrip(), flush=True)
        if module == "bench.replicas":
            from tests.cluster import missing_engines

            if missing := missing_engines():
                print("skipped: needs " + ", ".join(missing) + " (scripts/services.sh start DIR)")
                continue
        failed += subprocess.run([sys.executable, "-m", module, *args], check=False).returncode != 0
    left = sorted(str(p) for p in set(temp.iterdir()) - before)
    running = children()
    print(
        f"suite: {time.perf_counter() - began:.0f} s; left behind: "
        + (", ".join(left + running) if left or running else "nothing")
    )
    sys.exit(1 if failed or left or running else 0)
