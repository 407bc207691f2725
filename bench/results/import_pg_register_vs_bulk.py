import sys, time, random
sys.path.insert(0, "/work/wt-batch/bench"); sys.path.insert(0, "/work/wt-batch")
from pathlib import Path
from common import ensure_pg_database, start_runtime, validated_items, now_utc
import bench.import_bench as ib
url = "postgresql+psycopg://postgres@127.0.0.1:5432/kesu_bench_import"
p = Path("/tmp/kb/pg8k.xlsx")
if not p.exists(): ib.write_xlsx(p, ib.rows(8000, 5))
from kesu.channels import file_import
from kesu.complaints import registration
for round_ in range(2):
    ensure_pg_database(url, drop=True); rt = start_runtime(url)
    marks = {}
    t0 = time.perf_counter(); c0 = time.process_time()
    out = file_import.run(rt, p, "b", progress=lambda s, d, t: marks.setdefault(s, (time.perf_counter(), time.process_time())))
    t1 = time.perf_counter(); c1 = time.process_time()
    rt.close()
    wi, ci = marks["import"]
    print(f"file: register {8000/(t1-wi):.0f}/s wall, cpu {c1-ci:.2f}s; read+check {wi-t0:.2f}s wall cpu {ci-c0:.2f}")
    ensure_pg_database(url, drop=True); rt = start_runtime(url)
    items = validated_items(8000, random.Random(1), now_utc())
    t0 = time.perf_counter(); c0 = time.process_time()
    for i in range(0, 8000, 2000): registration.bulk_import(rt, items[i:i+2000], "b")
    t1 = time.perf_counter(); c1 = time.process_time()
    rt.close()
    print(f"bulk: {8000/(t1-t0):.0f}/s wall, cpu {c1-c0:.2f}s")
