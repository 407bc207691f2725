# sample PostgreSQL wait events of kesu_bench backends every 50 ms
end=$((SECONDS+$1))
while [ $SECONDS -lt $end ]; do
  psql -h 127.0.0.1 -U postgres -Atc "select coalesce(wait_event_type,'CPU')||':'||coalesce(wait_event,'-')||':'||state||':'||left(regexp_replace(query,'\s+',' ','g'),60) from pg_stat_activity where datname='kesu_bench' and pid<>pg_backend_pid() and backend_type='client backend'"
  sleep 0.05
done
