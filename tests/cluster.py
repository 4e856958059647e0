"""Replicas in webhook mode behind Debian's nginx, on PostgreSQL and Redis: the way
docs/deployment.md runs the bot, on loopback, for the end-to-end test and the benchmark."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import dbs
from tests.harness import BotProcess, Sandbox, write_config

SECRET = "replicas-share-this-secret-0123456789"
REQUIRE_ENV = "LASTMETER_REQUIRE_REPLICAS"  # CI: a missing engine fails instead of skipping

NGINX_CONF = """
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream lastmeter {{
{servers}
        keepalive 16;
    }}
    server {{
        listen 127.0.0.1:{port};
        location /tg/ {{
            proxy_pass http://lastmeter;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_connect_timeout 1s;
            proxy_read_timeout 30s;
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def missing_engines() -> list[str]:
    """What replicas need and this machine lacks: PostgreSQL and Redis (scripts/services.sh
    start, its variables exported) and nginx."""
    missing = []
    if not os.environ.get(dbs.SERVER_ENV):
        missing.append(f"PostgreSQL ({dbs.SERVER_ENV})")
    if not os.environ.get(dbs.REDIS_ENV):
        missing.append(f"Redis ({dbs.REDIS_ENV})")
    if not nginx_binary():
        missing.append("nginx")
    return missing


def nginx_binary() -> str:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else "")


def need_engines() -> tuple[str, str, str]:
    """A fresh PostgreSQL database's URL, Redis's URL and nginx's path, or a skip (a failure
    under CI)."""
    missing = missing_engines()
    if missing:
        message = "replicas need " + ", ".join(missing) + " (scripts/services.sh start)"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(message)
        pytest.skip(message)
    return dbs.new_postgres_url(), os.environ[dbs.REDIS_ENV], nginx_binary()


@dataclass
class Nginx:
    folder: Path
    binary: str
    upstreams: list[int]
    port: int = field(default_factory=free_port)
    proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in self.upstreams
        )
        user = "user root;" if os.geteuid() == 0 else ""  # its workers write the temp folders
        conf = self.folder / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(user=user, dir=self.folder, servers=servers, port=self.port),
            encoding="utf-8",
        )
        with (self.folder / "nginx.out").open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                self.binary,
                "-c",
                str(conf),
                "-p",
                str(self.folder),
                "-g",
                "daemon off;",
                stdout=out,
                stderr=out,
            )
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                if self.proc.returncode is not None:
                    break
                await asyncio.sleep(0.05)
        raise AssertionError(f"nginx did not start: {(self.folder / 'error.log').read_text()}")

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
            await asyncio.wait_for(self.proc.wait(), 15)


@dataclass
class Replica:
    bot: BotProcess
    listen: int

    async def health(self) -> dict[str, Any]:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{self.listen}/healthz") as response,
        ):
            body: dict[str, Any] = await response.json()
            body["http_status"] = response.status
            return body

    async def metrics(self) -> str:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{self.listen}/metrics") as response,
        ):
            assert response.status == 200
            return await response.text()


def replica(
    sandbox: Sandbox, folder: Path, *, url: str, redis: str, nginx_port: int, extra: str = ""
) -> Replica:
    """A replica's config (webhook mode, the shared database, Redis and secret) and process."""
    folder.mkdir(parents=True, exist_ok=True)
    listen = free_port()
    telegram = (
        f'mode = "webhook"\nwebhook_url = "http://127.0.0.1:{nginx_port}/tg/hook"\n'
        f'webhook_secret = "{SECRET}"\nwebhook_listen = "127.0.0.1:{listen}"'
    )
    fsm = f'[fsm]\nstorage = "redis"\nredis_url = "{redis}"\n'
    config = write_config(folder, sandbox.port, telegram=telegram, url=url, extra=fsm + extra)
    return Replica(BotProcess(config, sandbox), listen)


async def fresh_redis(url: str) -> str:
    """A Redis database of its own for one test (flushed), as a URL."""
    import redis.asyncio as aioredis

    index = 1 + os.getpid() % 14
    own = url.rsplit("/", 1)[0] + f"/{index}"
    client = aioredis.from_url(own)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return own


async def leader_of(replicas: list[Replica], timeout: float = 30.0) -> Replica:
    """The replica that leads (runs the sweeps and the sender), once one does."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        for r in replicas:
            if r.bot.proc is not None and r.bot.proc.returncode is None:
                try:
                    if (await r.health()).get("leader"):
                        return r
                except aiohttp.ClientError:
                    pass
        await asyncio.sleep(0.2)
    raise AssertionError("no replica leads")
