#!/usr/bin/env bash
# Issue 12 point 6: create throughput before (8ff2c30, /work/wt-before) and after
# (4e29d54, /work/wt-bench), interleaved B A B A on each database.
# Both variants run bench/http_bench.py from /work/wt-bench (same script, same
# create.lua), each with its own worktree's virtualenv, so `kesu serve` is that
# worktree's code. cwd is /work/wt-bench for both (same .kesu/keys as the loader).
# Each run starts on a fresh copy of one master data set (20,000 complaints,
# seed 2026, 70 % closed, ANALYZE), loaded once with:
#   .venv/bin/python bench/load.py --url sqlite:////tmp/i12/kesu_bench_i12_master.sqlite --n 20000 --fresh --close 0.7 --analyze
#   .venv/bin/python bench/load.py --url postgresql+psycopg://postgres@127.0.0.1:5432/kesu_bench_i12_master --n 20000 --fresh --close 0.7 --analyze
# Usage: [SCENARIO=create_nocat] bash bench/results/i12_commands.sh sqlite|pg ROUND...
# (default scenario: create; default rounds: 1 2)
set -euo pipefail
cd /work/wt-bench
db=$1; shift
rounds=${*:-1 2}
sc=${SCENARIO:-create}
sfx=$([ "$sc" = create ] && echo "" || echo "_${sc#create_}")
declare -A PY=([before]=/work/wt-before/.venv/bin/python [after]=/work/wt-bench/.venv/bin/python)
for r in $rounds; do
  for v in before after; do
    name=kesu_bench_i12${sfx}_${v}_r$r
    if [ "$db" = sqlite ]; then
      rm -f /tmp/i12/$name.sqlite /tmp/i12/$name.sqlite-wal /tmp/i12/$name.sqlite-shm
      cp /tmp/i12/kesu_bench_i12_master.sqlite /tmp/i12/$name.sqlite
      url=sqlite:////tmp/i12/$name.sqlite
      out=bench/results/http_sqlite_i12${sfx}_${v}_r$r.txt
    else
      psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $name WITH (FORCE)"
      psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $name TEMPLATE kesu_bench_i12_master"
      psql -q -h 127.0.0.1 -U postgres -c "CHECKPOINT"
      url=postgresql+psycopg://postgres@127.0.0.1:5432/$name
      out=bench/results/http_pg_i12${sfx}_${v}_r$r.txt
    fi
    echo "== $(date -u +%H:%M:%S) $db $sc $v round $r -> $out"
    ${PY[$v]} bench/http_bench.py --url "$url" --scenario $sc --label i12_${v}_r$r > "$out" 2>&1
    grep -E '^(server:|interference|cpu:|RESULT)' "$out"
  done
done
