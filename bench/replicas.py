"""Benchmark: two replicas ÷ one replica, on the same load, the way docs/deployment.md runs them.

The bot in webhook mode behind Debian's nginx, on PostgreSQL and Redis; the sandbox delivers the
updates by webhook through nginx. The load is bench.intake's complaint intake: N residents at once,
each waiting for the bot's answer before the next of its 4 updates. Each run gets a fresh database
and fresh replicas; the same people, texts and seed. Printed: updates/s and p50/p99 per run, and
the ratio. Needs `scripts/services.sh start DIR` (its variables exported) and nginx. Not a test.

    python -m bench.replicas [--residents 120] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.intake import FIRST, Watcher, complaint, problem, seed
from tests import dbs
from tests.cluster import Nginx, fresh_redis, missing_engines, nginx_binary, replica
from tests.harness import Person, open_sandbox

OUTBOX_WIDE = "[outbox]\nglobal_rate = 1000\nprivate_chat_interval = 0\nprivate_burst = 1000\n"


async def run(replicas: int, count: int, nginx_binary: str) -> dict[str, float]:
    sandbox, runner = await open_sandbox()
    watcher = Watcher(sandbox)
    watch = asyncio.create_task(watcher.run())
    people = [Person(FIRST + n, f"居民{n}", "zh-hans") for n in range(count)]
    for person in people:
        sandbox.state.chat_for(person.json, None)
    rng = random.Random(7)
    texts = [problem(rng) for _ in people]
    latencies: list[float] = []
    url = dbs.new_postgres_url()
    redis = await fresh_redis(os.environ[dbs.REDIS_ENV])
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        nginx = Nginx(tmp / "nginx", nginx_binary, upstreams=[])
        bots = [
            replica(
                sandbox,
                tmp / f"r{n}",
                url=url,
                redis=redis,
                nginx_port=nginx.port,
                extra=OUTBOX_WIDE,
            )
            for n in range(replicas)
        ]
        nginx.upstreams = [b.listen for b in bots]
        await nginx.start()
        for b in bots:
            await b.bot.start(ready="call_setWebhook", timeout=60)
        await seed(url, people, "complaint")
        pids = [b.bot.proc.pid for b in bots if b.bot.proc is not None]
        cpu_before = [cpu_seconds(pid) for pid in pids], time.process_time(), machine_seconds()
        started = time.perf_counter()
        await asyncio.gather(
            *(
                complaint(sandbox, watcher, p, t, latencies)
                for p, t in zip(people, texts, strict=True)
            )
        )
        elapsed = time.perf_counter() - started
        bots_cpu = [cpu_seconds(pid) - b for pid, b in zip(pids, cpu_before[0], strict=True)]
        own_cpu = time.process_time() - cpu_before[1]
        all_cpu = machine_seconds() - cpu_before[2]
        for b in bots:
            await b.bot.stop()
        await nginx.stop()
    watch.cancel()
    await sandbox.http.close()
    await runner.cleanup()
    latencies.sort()
    return {
        "cpu_replicas": sum(bots_cpu),
        "cpu_busiest": max(bots_cpu),
        "cpu_load": own_cpu,
        "cpu_rest": all_cpu - sum(bots_cpu) - own_cpu,
        "cpu_available": elapsed * (os.cpu_count() or 1),
        "updates": len(latencies),
        "per_second": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_seconds() -> float:
    """CPU time the whole machine has used (all cores, not idle), from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=120)
    parser.add_argument("--rounds", type=int, default=2, help="alternating 1 and 2 replicas")
    args = parser.parse_args()
    missing = missing_engines()
    if missing:
        raise SystemExit("needs " + ", ".join(missing) + " (scripts/services.sh start DIR)")
    nginx = nginx_binary()
    results: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    try:
        for _ in range(args.rounds):
            for n in (1, 2):
                results[n].append(asyncio.run(run(n, args.residents, nginx)))
    finally:
        dbs.drop_all()
    print(
        f"complaint intake, {args.residents} people at once; webhook replicas behind nginx, "
        "PostgreSQL and Redis on this machine"
    )
    best = {n: max(rs, key=lambda r: r["per_second"]) for n, rs in results.items()}
    for n, r in best.items():
        runs = ", ".join(f"{x['per_second']:.0f}" for x in results[n])
        print(
            f"  {n} replica{'s' if n > 1 else ' '}: {r['per_second']:6.1f} updates/s "
            f"(runs: {runs}), p50 {r['p50']:.0f} ms, p99 {r['p99']:.0f} ms"
        )
        print(
            f"      CPU s of {r['cpu_available']:.0f} available: replicas {r['cpu_replicas']:.0f} "
            f"(the busiest {r['cpu_busiest']:.0f}), sandbox and people {r['cpu_load']:.0f}, "
            f"PostgreSQL, Redis, nginx and the rest {r['cpu_rest']:.0f}"
        )
    print(f"  2 replicas ÷ 1 replica: {best[2]['per_second'] / best[1]['per_second']:.2f}")


if __name__ == "__main__":
    main()
