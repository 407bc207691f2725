-- wrk script: the first page of a team's open queue sorted by next deadline,
-- cycling through the six teams.
-- Usage: wrk -t1 -c4 -d30s --latency -s bench/queue.lua http://127.0.0.1:PORT
local teams = {"frontline", "billing", "network", "marketing", "escalation", "legal"}
local i = 0
function request()
  i = i + 1
  local team = teams[(i % #teams) + 1]
  return wrk.format("GET", "/api/v1/complaints?team=" .. team .. "&open=true&sort=due&limit=50",
    {["Authorization"] = "Bearer " .. (os.getenv("KESU_BENCH_TOKEN") or "")})
end
