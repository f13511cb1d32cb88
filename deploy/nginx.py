"""The load balancer in front of the hubs: an nginx configuration (Debian's nginx package) that runs as the
user who starts it, with every path it writes under its own directory, so it needs no root and no /etc.

Any hub can serve any request (the hubs share their state through PostgreSQL and Redis), so no sticky sessions:
plain round robin, and a hub that refuses connections (dead, restarting) is skipped for the next one.
"""

from __future__ import annotations

import getpass
import grp
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
SOCKET_IDLE_SECONDS = 3600
"""How long nginx keeps a quiet WebSocket open: a customer's widget or an agent's console can idle for long; both
reconnect when it closes anyway."""


def nginx_binary() -> str | None:
    """Debian installs nginx in /usr/sbin, which a user's PATH often lacks."""
    found = shutil.which("nginx")
    if found:
        return found
    return next((path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None)


def nginx_command(binary: str, prefix: Path) -> list[str]:
    """nginx in the foreground (the config says `daemon off`), its prefix and error log under `prefix` from the
    first line it writes (-e), so it never touches /var/log/nginx."""
    return [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]


def nginx_config(listen: str, upstreams: Sequence[str], prefix: Path) -> str:
    """The configuration text: `listen` is host:port, `upstreams` the hubs' host:port."""
    prefix = prefix.resolve()
    servers = "\n".join(f"        server {address} max_fails=1 fail_timeout=10s;" for address in upstreams)
    temp = "\n".join(f"    {name}_temp_path {prefix / 'temp' / name};" for name in TEMP_DIRS)
    return f"""# Written by `python -m deploy.scaled`; edits are overwritten at the next start.
{_user_line()}worker_processes auto;
daemon off;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;

events {{
    worker_connections 8192;
}}

http {{
    access_log {prefix / "access.log"};
{temp}
    client_max_body_size 1m;
    server_tokens off;

    # A WebSocket upgrade is passed on; any other request keeps its upstream connection alive.
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      '';
    }}

    upstream hubs {{
{servers}
        keepalive 32;
    }}

    server {{
        listen {listen};

        location / {{
            proxy_pass http://hubs;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout 2s;
            proxy_read_timeout {SOCKET_IDLE_SECONDS}s;
            proxy_send_timeout {SOCKET_IDLE_SECONDS}s;
            proxy_buffering off;
            # A hub that cannot be reached is skipped; a request it already received is never sent twice.
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 0;
        }}
    }}
}}
"""


def prepare_directories(prefix: Path) -> None:
    for name in TEMP_DIRS:
        (prefix / "temp" / name).mkdir(parents=True, exist_ok=True)


def _user_line() -> str:
    """Run as root, nginx would hand its workers to `nobody`, who cannot write the temp paths: keep the user."""
    if os.geteuid() != 0:
        return ""
    return f"user {getpass.getuser()} {grp.getgrgid(os.getegid()).gr_name};\n"
