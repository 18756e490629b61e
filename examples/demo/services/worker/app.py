"""Queue worker: pops webhook jobs from Redis and delivers them."""

import json
import os
import time

import redis
import requests

QUEUE = os.environ.get("QUEUE", "webhooks")


def main() -> None:
    r = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://redis:6379/0"))
    while True:
        item = r.blpop(QUEUE, timeout=5)
        if item is None:
            continue
        job = json.loads(item[1])
        try:
            requests.post(job["url"], json=job["payload"], timeout=10).raise_for_status()
        except requests.RequestException as exc:
            print(f"delivery to {job['url']} failed: {exc}; requeueing", flush=True)
            r.rpush(QUEUE, item[1])
            time.sleep(1)


if __name__ == "__main__":
    main()
