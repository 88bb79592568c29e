#!/usr/bin/env python3
"""bench/scale/fts5.py — SQLite FTS5 (Debian's libsqlite3, BM25 by bm25()) as the keyword
index, measured against the book's own postings (bench_scale's "BM25 only" mix asks the same
texts): build time, index size, query p50 / p99 for the top 200.

Usage: bench/scale/fts5.py CSV [ROWS] [RUNS]
The documents are the CSV rows rendered "Label: value, ..." as the default profile text is
(labels humanised from the header); FTS5 uses its unicode61 tokenizer and k1 1.2, b 0.75.
"""
import os, sqlite3, sys, time, csv, tempfile

path = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 200
queries = ["investment products", "retirement planning", "estate planning", "savings accounts",
           "mortgage", "education loans", "premium credit cards", "wealth management services"]

def docs():
    with open(path, newline="") as f:
        r = csv.reader(f)
        head = [h.replace("_", " ").capitalize() for h in next(r)]
        for i, row in enumerate(r):
            if i >= rows:
                break
            yield (i + 1, ", ".join(f"{h}: {v}" for h, v in zip(head, row) if v) + ".")

db = os.path.join(tempfile.gettempdir(), "prospect-fts5-bench.db")
for p in (db, db + "-wal", db + "-shm"):
    if os.path.exists(p):
        os.remove(p)
con = sqlite3.connect(db)
con.execute("PRAGMA journal_mode=WAL")
con.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize='unicode61')")
t0 = time.time()
with con:
    con.executemany("INSERT INTO t(rowid, body) VALUES (?, ?)", docs())
build = time.time() - t0
con.execute("INSERT INTO t(t) VALUES('optimize')")
con.commit()
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
size = os.path.getsize(db)
times = []
for i in range(runs):
    q = " OR ".join(queries[i % len(queries)].split())
    t0 = time.perf_counter()
    hits = con.execute("SELECT rowid, bm25(t) FROM t WHERE t MATCH ? ORDER BY rank LIMIT 200",
                       (q,)).fetchall()
    times.append((time.perf_counter() - t0) * 1e3)
times.sort()
print(f"FTS5 {rows} docs: build {build:.1f} s (+ optimize), size {size / 1e6:.0f} MB, "
      f"top-200 query p50 {times[len(times) // 2]:.2f} ms p99 {times[len(times) * 99 // 100]:.2f} ms "
      f"({runs} runs)")
con.close()
for p in (db, db + "-wal", db + "-shm"):
    if os.path.exists(p):
        os.remove(p)
