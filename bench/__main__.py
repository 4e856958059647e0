"""Run every benchmark, one after another, each in its own process: python -m bench"""

import subprocess
import sys

SUITE = (
    ["bench.intake", "--residents", "60"],
    ["bench.outbox_pacing"],
    ["bench.lostfound", "quality"],
    ["bench.lostfound", "speed"],
    # /stats, the sweep, start-up and memory at 10k, 100k and 1M tickets, each database built once
    ["bench.scale"],
)

if __name__ == "__main__":
    failed = 0
    for module, *args in SUITE:
        print(f"$ python -m {module} {' '.join(args)}".rstrip(), flush=True)
        failed += subprocess.run([sys.executable, "-m", module, *args], check=False).returncode != 0
    sys.exit(1 if failed else 0)
