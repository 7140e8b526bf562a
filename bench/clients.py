"""Child-process entry points for the reference tools (run by bench/run.py, one process each).

    python bench/clients.py fetch BASE_URL URLS_FILE CONCURRENCY
    python bench/clients.py advertools START_URL OUTPUT_JSONL CONCURRENCY MAX_PAGES

Each prints one JSON line on stdout: ``{"pages": …, "seconds": …, …}`` where ``seconds`` is the
time spent in the work itself (without interpreter start-up and imports; the harness measures
the whole process too).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter


async def _fetch_all(urls: list[str], concurrency: int) -> tuple[Counter, int]:
    import httpx

    statuses: Counter = Counter()
    total = 0
    todo = iter(urls)  # shared by the workers: each takes the next URL when it is free
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    timeout = httpx.Timeout(30.0)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal total
        for url in todo:
            try:
                response = await client.get(url)
                total += len(response.content)
                statuses[response.status_code] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1

    async with httpx.AsyncClient(limits=limits, timeout=timeout, http1=True, http2=False) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return statuses, total


def fetch(base_url: str, urls_file: str, concurrency: str) -> dict:
    base = base_url.rstrip("/")
    with open(urls_file) as fh:
        urls = [base + line.strip() for line in fh if line.strip()]
    started = time.perf_counter()
    statuses, total = asyncio.run(_fetch_all(urls, int(concurrency)))
    seconds = time.perf_counter() - started
    ok = statuses.get(200, 0)
    return {"pages": ok, "requests": len(urls), "bytes": total, "seconds": seconds, "statuses": dict(statuses)}


def advertools(start_url: str, output: str, concurrency: str, max_pages: str) -> dict:
    import_start = time.perf_counter()
    import advertools as adv

    import_seconds = time.perf_counter() - import_start
    c = int(concurrency)
    settings = {
        "CONCURRENT_REQUESTS": c,
        "CONCURRENT_REQUESTS_PER_DOMAIN": c,
        "LOG_LEVEL": "WARNING",
        "ROBOTSTXT_OBEY": True,
        "CLOSESPIDER_PAGECOUNT": int(max_pages),
    }
    started = time.perf_counter()
    # allowed_domains without the port: Scrapy's off-site filter matches the bare host
    # (shared/PERF-NOTES.md), else only the start URL is crawled.
    adv.crawl(
        url_list=start_url,
        output_file=output,
        follow_links=True,
        allowed_domains=["127.0.0.1"],
        custom_settings=settings,
    )
    seconds = time.perf_counter() - started
    statuses: Counter = Counter()
    pages = 0
    with open(output, encoding="utf-8") as fh:
        for line in fh:
            pages += 1
            statuses[json.loads(line).get("status")] += 1
    return {
        "pages": pages,
        "seconds": seconds,
        "import_seconds": import_seconds,
        "statuses": {str(k): v for k, v in statuses.items()},
    }


def main(argv: list[str]) -> int:
    commands = {"fetch": fetch, "advertools": advertools}
    if not argv or argv[0] not in commands:
        print(__doc__, file=sys.stderr)
        return 2
    result = commands[argv[0]](*argv[1:])
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
