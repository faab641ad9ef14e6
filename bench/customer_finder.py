"""The customer finder (360 View, the Users filter, the import's picker) in a large tenant.

    python bench/customer_finder.py [--url URL] [--customers 300000] [--runs 40] [--json FILE]

Builds (once; reused while it holds ``--customers`` rows) a Postgres database of one tenant with
that many customers, names drawn from 20 first and 20 last names (so a word is shared by about
15,000 of them, as a common surname would be in a real tenant) and every 97th last name made
unique. For each typed text it times ``filter_options.search_customers`` as the app calls it,
alternately with the same word-prefix query left to Postgres's own plan (the reference: what the
finder did before it read matches through the GIN index), and prints p50/p95 of both and the ratio
of the p95s. A text that matches nobody is the case the planner gets wrong: it walks the whole
tenant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import measure_pair, print_table  # noqa: E402
from db.engine import create_database_if_missing, make_engine  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import Customer  # noqa: E402
from sessionlens import filter_options  # noqa: E402
from sessionlens.permissions import Actor  # noqa: E402
from sessionlens.search import PersonMatch  # noqa: E402
from sessionlens.search_tokens import tokens  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sessionlens_bench_customers"
FIRST = "Ines Nora Kofi Mia Mateo Yuki Noah Tomas Freya Olivia Omar Zara Lea Hana Ravi Emma Felix "
FIRST += "Marta Chloe Amir"
LAST = "Kim OBrien Costa Rossi Johansson Okafor Silva Larsen Kowalski Smith Moreau Patel Nguyen "
LAST += "Garcia Berg Schmidt Dubois Yilmaz Haddad Novak"
TYPED = ["kim", "ki", "obrien", "ines k", "silvason", "silvason19206", "zz", "nobody here"]


def ensure_customers(url: str, n: int) -> None:
    create_database_if_missing(url)
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        if conn.scalar(text("SELECT count(*) FROM customers")) == n:
            return
        conn.execute(text("DELETE FROM customers"))
        conn.execute(text("DELETE FROM tenants"))
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, timezone, plan, statuses, result_fields, created_at)"
                " VALUES (1, 'Bench', 'UTC', 'paid', '[\"open\"]', '[]', now())"
            )
        )
        # The search column as the app writes it for ASCII names: lower-cased words.
        conn.execute(
            text(
                "INSERT INTO customers (tenant_id, name, name_key, email, search, custom_fields)"
                " SELECT 1, f || ' ' || l, lower(f || ' ' || l),"
                " lower(f) || '.' || lower(l) || g || '@example.com',"
                " to_tsvector('simple', f || ' ' || l || ' ' || lower(f) || ' ' || lower(l) || g"
                " || ' example com'), '{}'"
                " FROM generate_series(1, :n) g, LATERAL (SELECT"
                " (string_to_array(:first, ' '))[1 + (g * 7) % 20] f,"
                " (string_to_array(:last, ' '))[1 + (g * 13 + g / 20) % 20]"
                " || CASE WHEN g % 97 = 0 THEN 'son' || g ELSE '' END l) x"
            ),
            {"n": n, "first": FIRST, "last": LAST},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE customers"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default=DEFAULT_URL)
    ap.add_argument("--customers", type=int, default=300_000)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--json")
    args = ap.parse_args()
    ensure_customers(args.url, args.customers)
    engine = make_engine(args.url)
    who = Actor(user_id=0, tenant_id=1, role="admin", name="bench")
    rows = []
    with Session(engine) as db:
        for typed in TYPED:

            def finder(typed: str = typed) -> object:
                found = filter_options.search_customers(db, typed, actor=who)
                db.rollback()
                return found

            def planner_alone(typed: str = typed) -> object:
                c = Customer
                q = select(c.id).where(c.tenant_id == 1, PersonMatch(tuple(tokens(typed))))
                found = db.execute(q.limit(20)).all()
                db.rollback()
                return found

            (d50, d95), (r50, r95) = measure_pair(finder, planner_alone, runs=args.runs)
            rows.append(
                {
                    "case": f"{typed!r} ({len(finder())} found)",
                    "domain_p50_ms": d50,
                    "domain_p95_ms": d95,
                    "raw_p50_ms": r50,
                    "raw_p95_ms": r95,
                    "ratio_p95": d95 / r95 if r95 else 0.0,
                }
            )
    print(f"{args.customers:,} customers in one tenant; raw = the word query on the planner's plan")
    print_table(rows, args.json)


if __name__ == "__main__":
    main()
