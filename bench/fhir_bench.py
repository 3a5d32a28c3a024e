"""Benchmark the FHIR read path (under gunicorn) and the bulk export (in-process).

    make bench                      # PostgreSQL, schema "bench" of the local test database
    make bench BENCH_DATABASE_URL=sqlite:////tmp/bench.db

It loads the demo data, issues a read token, serves the app with gunicorn and drives both
`GET /healthz` (no database, no login) and `GET /fhir/CarePlan/<id>` (bearer token checked,
access computed, one audit row written per read) with the same keep-alive clients for the
same time, in alternating rounds; then again with SIP_FHIR_READ_AUDIT_COMMIT=sync, for the
cost of flushing every read's audit row to disk before answering (shown, not judged: the
target is for the configuration the app runs with by default). Then it grows the store to
50,000 resources and times the bulk export's writer against reading the same rows with
plain SQL and writing them with orjson. Targets from issue 3: the read reaches at least 40%
of the trivial endpoint's throughput, the export at least 50% of the plain rate. Exit
status 1 when either is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
READ_TARGET = 0.40
EXPORT_TARGET = 0.50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(database_url: str) -> tuple[str, str]:
    """Migrate, load demo data, issue a token; return (token, a CarePlan id it may read)."""
    os.environ["DATABASE_URL"] = database_url
    sys.path.insert(0, str(ROOT))
    if "search_path" in database_url:
        _fresh_schema(database_url)
    from flask_migrate import upgrade
    from sqlalchemy import select

    from sip_tracker import create_app
    from sip_tracker.db import db
    from sip_tracker.demo import load_demo_data
    from sip_tracker.fhir.access import visible_resources
    from sip_tracker.fhir.models import StoredResource
    from sip_tracker.fhir.tokens import issue_token
    from sip_tracker.organizations.models import Huvudman
    from sip_tracker.organizations.reference import load_reference_data

    app = create_app({"SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        load_reference_data()
        load_demo_data()
        db.session.commit()
        region = db.session.scalars(
            select(Huvudman).where(Huvudman.name == "Region Stockholm")
        ).one()
        token = issue_token(name="bench", huvudman=region, read=True, write=False)
        db.session.commit()
        row = db.session.scalars(
            select(StoredResource).where(
                StoredResource.resource_type == "CarePlan", visible_resources(token.row)
            )
        ).first()
        assert row is not None, "no CarePlan visible to the region's token"
        return token.secret, row.logical_id


def _fresh_schema(database_url: str) -> None:
    """A PostgreSQL URL with options=-csearch_path=NAME: start from an empty schema NAME."""
    from urllib.parse import unquote

    from sqlalchemy import create_engine, text

    schema = unquote(database_url).split("search_path=")[1].split("&")[0]
    base = database_url.split("?")[0]
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


EXPORT_ROWS = 50_000


def _grow_store(rows: int) -> None:
    """Copy the demo's stored resources under new ids until the store holds `rows`."""
    from sqlalchemy import func, insert, select

    from sip_tracker.db import db
    from sip_tracker.fhir.models import StoredResource

    originals = db.session.scalars(select(StoredResource)).all()
    have = db.session.scalar(select(func.count(StoredResource.id))) or 0
    copy = 0
    while have < rows:
        copy += 1
        batch = [
            {
                "resource_type": r.resource_type,
                "logical_id": f"{r.logical_id}-copy{copy}",
                "version_id": 1,
                "last_updated": r.last_updated,
                "case_id": r.case_id,
                "person_id": r.person_id,
                "status": r.status,
                "content": r.content,
            }
            for r in originals
        ]
        db.session.execute(insert(StoredResource), batch)
        have += len(batch)
    db.session.commit()


def export_rates(database_url: str, folder: str, repeats: int = 3) -> tuple[float, float, int]:
    """Resources per second: our bulk export's writer against plain SQL + orjson (best of n)."""
    import orjson
    from sqlalchemy import text, true

    from sip_tracker import create_app
    from sip_tracker.db import db
    from sip_tracker.fhir.api import RESOURCE_TYPES
    from sip_tracker.fhir.bulk import write_ndjson

    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": database_url})
    ours = plain = 0.0
    count = 0
    with app.app_context():
        _grow_store(EXPORT_ROWS)
        for attempt in range(repeats):
            started = time.perf_counter()
            output = write_ndjson(
                Path(folder) / f"ours-{attempt}",
                types=list(RESOURCE_TYPES),
                where=true(),
                since=None,
                audit_detail="bench",
            )
            count = sum(entry["count"] for entry in output)
            ours = max(ours, count / (time.perf_counter() - started))

            started = time.perf_counter()
            target = Path(folder) / f"plain-{attempt}"
            target.mkdir()
            files: dict[str, Any] = {}
            written = 0
            with db.engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT resource_type, content FROM fhir_resource ORDER BY id")
                )
                for kind, content in rows:
                    out = files.get(kind) or files.setdefault(kind, (target / kind).open("wb"))
                    out.write(orjson.dumps(orjson.Fragment(content)) + b"\n")
                    written += 1
            for out in files.values():
                out.close()
            plain = max(plain, written / (time.perf_counter() - started))
    return ours, plain, count


def hammer(args: tuple[int, str, dict[str, str], float]) -> int:
    """One client: keep-alive GETs for `seconds`; return how many answered 200."""
    port, path, headers, seconds = args
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    done = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
        done += 1
    connection.close()
    return done


def throughput(
    port: int, path: str, headers: dict[str, str], clients: int, seconds: float
) -> float:
    with multiprocessing.Pool(clients) as pool:
        counts = pool.map(hammer, [(port, path, headers, seconds)] * clients)
    return sum(counts) / seconds


def wait_for(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


@contextlib.contextmanager
def serve(url: str, workers: int, **env: str) -> Iterator[int]:
    """gunicorn serving the app on a free port, as production would run it."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "sip_tracker:create_app()",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "SIP_ENV": "production",
            **env,
        },
    )
    try:
        wait_for(port)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def read_against_trivial(
    port: int, careplan: str, token: str, clients: int, seconds: float, rounds: int
) -> tuple[float, float]:
    """Requests per second for /healthz and for the read, measured in alternating rounds so
    that a change in the machine's load falls on both alike."""
    auth = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
    read_path = f"/fhir/CarePlan/{careplan}"
    throughput(port, "/healthz", {}, clients, 1.0)  # warm up
    throughput(port, read_path, auth, clients, 1.0)
    trivial = read = 0.0
    for _ in range(rounds):
        trivial += throughput(port, "/healthz", {}, clients, seconds / rounds)
        read += throughput(port, read_path, auth, clients, seconds / rounds)
    return trivial / rounds, read / rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--seconds", type=float, default=9.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    measure = (options.clients, options.seconds, options.rounds)
    with tempfile.TemporaryDirectory() as folder:
        url = options.database_url or f"sqlite:///{folder}/bench.db"
        print(f"preparing {url.split('@')[-1]} with the demo data …", flush=True)
        token, careplan = prepare(url)
        with serve(url, options.workers) as port:
            trivial, read = read_against_trivial(port, careplan, token, *measure)
        # The same with every read's audit row flushed to disk before the answer.
        with serve(url, options.workers, SIP_FHIR_READ_AUDIT_COMMIT="sync") as port:
            trivial_sync, read_sync = read_against_trivial(port, careplan, token, *measure)
        ours, plain, exported = export_rates(url, folder)
    ratio = read / trivial
    print(f"GET /healthz                 {trivial:8.0f} requests/s")
    share = f"({ratio:.0%} of the trivial endpoint)"
    print(f"GET /fhir/CarePlan/{careplan:<10}{read:8.0f} requests/s  {share}")
    verdict = "met" if ratio >= READ_TARGET else "NOT met"
    print(f"target: read ≥ {READ_TARGET:.0%} of the trivial endpoint: {verdict}")
    print(
        f"  with SIP_FHIR_READ_AUDIT_COMMIT=sync: {read_sync:.0f} against {trivial_sync:.0f}"
        f" requests/s ({read_sync / trivial_sync:.0%})"
    )
    export_ratio = ours / plain
    print(f"bulk export writer   {ours:10.0f} resources/s ({exported} resources)")
    print(f"plain SQL + orjson   {plain:10.0f} resources/s  ({export_ratio:.0%})")
    export_verdict = "met" if export_ratio >= EXPORT_TARGET else "NOT met"
    print(f"target: export ≥ {EXPORT_TARGET:.0%} of plain SQL + orjson: {export_verdict}")
    return 0 if ratio >= READ_TARGET and export_ratio >= EXPORT_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
