"""Exit 0 when the Redis of the live-update tests answers PING (CI and local runs)."""

from __future__ import annotations

import sys

from redis import Redis
from redis.exceptions import RedisError

if __name__ == "__main__":
    try:
        Redis.from_url(sys.argv[1], socket_connect_timeout=3).ping()
    except (RedisError, OSError) as exc:
        print(f"Redis not reachable at {sys.argv[1]}: {exc}")
        sys.exit(1)
