"""Portal upload benchmark: many concurrent large resumable uploads on loopback.

    .venv/bin/python bench/portal_bench.py [--uploads 50] [--megabytes 20] [--threads 25] [--workers 2]

A real portal (gunicorn, as `cell35 portal run` serves it) receives ``--uploads`` tus uploads of
``--megabytes`` each at once, from as many client threads, each logged in as one of ten secretaries.
Each body is streamed from a generator (the client holds 64 kB of it at a time) and hashed as it
goes; afterwards every file on the server is hashed again: nothing lost means every size and every
SHA-256 match. The server's memory is sampled every 20 ms over all its processes (the gunicorn
master and its workers); the peak is printed against the bytes uploaded.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from editorial_support import write_site  # noqa: E402
from portal_server import Client, running_portal  # noqa: E402

PASSWORD = "bench passphrase 42"
PIECE = 1 << 16


def rss_of_tree(root: int) -> int:
    """Resident bytes of ``root`` and its children (gunicorn's workers)."""
    total = 0
    pids = [root]
    try:
        children = Path(f"/proc/{root}/task/{root}/children").read_text().split()
    except OSError:
        children = []
    pids += [int(p) for p in children]
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def body(seed: int, size: int, digest):
    """``size`` bytes, different for each upload, made and hashed 64 kB at a time."""
    block = hashlib.sha256(str(seed).encode()).digest() * (PIECE // 32)
    sent = 0
    while sent < size:
        piece = block[: min(PIECE, size - sent)]
        piece = sent.to_bytes(8, "big") + piece[8:] if len(piece) >= 8 else piece
        digest.update(piece)
        sent += len(piece)
        yield piece


def upload(client: Client, seed: int, size: int) -> tuple[str, str, float]:
    path = client.create_upload(size)
    digest = hashlib.sha256()
    started = time.perf_counter()
    connection = client.connection(timeout=600)
    connection.request("PATCH", path, body=body(seed, size, digest), headers=client.headers(**{
        "Tus-Resumable": "1.0.0", "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
        "Content-Length": str(size)}))
    response = connection.getresponse()
    response.read()
    connection.close()
    if response.status != 204 or int(response.headers["Upload-Offset"]) != size:
        raise RuntimeError(f"upload {seed}: {response.status} at {response.headers.get('Upload-Offset')}")
    return path, digest.hexdigest(), time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--megabytes", type=int, default=20)
    parser.add_argument("--threads", type=int, default=25, help="threads per gunicorn worker")
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    size = options.megabytes * 1_000_000
    with tempfile.TemporaryDirectory(prefix="cell35-portal-bench-") as scratch:
        work = Path(scratch)
        content = write_site(work / "content")
        with open(content / "site.yml", "a", encoding="utf-8") as site:
            site.write(f"intake: {{max_submission_bytes: {size * options.uploads}}}\n")
        users = [(f"secretary-{n}", PASSWORD, "secretary", "ha-long") for n in range(10)]
        with running_portal(work, content, users, workers=options.workers, threads=options.threads) as (base, server):
            clients = [Client(base).login(name, PASSWORD) for name, *_ in users]
            # Warm-up: small uploads through every worker, so "idle" counts the modules a request loads.
            with concurrent.futures.ThreadPoolExecutor(options.workers * 4) as pool:
                list(pool.map(lambda n: upload(clients[n % len(clients)], 1000 + n, 1000), range(options.workers * 8)))
            idle = rss_of_tree(server.pid)
            peak = [idle]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], rss_of_tree(server.pid))
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.perf_counter()
            with concurrent.futures.ThreadPoolExecutor(options.uploads) as pool:
                results = list(pool.map(lambda n: upload(clients[n % len(clients)], n, size), range(options.uploads)))
            wall = time.perf_counter() - started
            done.set()
            sampler.join()
            lost = []
            for path, digest, _ in results:
                part = work / "data" / "uploads" / f"{path.rstrip('/').rsplit('/', 1)[1].replace('-', '')}.part"
                if part.stat().st_size != size or hashlib.sha256(part.read_bytes()).hexdigest() != digest:
                    lost.append(path)
    total = size * options.uploads
    print(f"uploads: {options.uploads} x {options.megabytes} MB at once, {options.workers} workers x "
          f"{options.threads} threads (gunicorn)")
    print(f"bytes uploaded: {total:,} in {wall:.1f} s ({total / wall / 1e6:.0f} MB/s); "
          f"slowest upload {max(r[2] for r in results):.1f} s")
    print(f"nothing lost: {'yes' if not lost else 'NO: ' + ', '.join(lost)} "
          f"({len(results) - len(lost)}/{options.uploads} files byte-identical by SHA-256)")
    print(f"server RSS: {idle / 1e6:.0f} MB idle, {peak[0] / 1e6:.0f} MB peak (all processes) "
          f"= {peak[0] / total * 100:.1f}% of the bytes uploaded; growth {(peak[0] - idle) / 1e6:.0f} MB")
    return 1 if lost else 0


if __name__ == "__main__":
    sys.exit(main())
