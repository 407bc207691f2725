-- wrk script: GET /api/v1/law/search with a different colloquial question each request.
-- Usage: wrk -t1 -c4 -d30s --latency -s bench/law_search.lua http://127.0.0.1:PORT/
local questions = {"宽带坏了三天没人修", "交了钱还不给我开机", "这个月话费突然比平时高了好几倍",
  "不让我携号转网", "营业员骗我办了合约机", "号码被说涉诈停机了怎么解封", "推销电话天天打",
  "装机约好了一直不来", "霸王条款最终解释权归他们", "投诉了十五天没人答复",
  "河南这边投诉五天没人理", "半夜网络割接也不通知", "详单要收费吗", "欠费两天就停机"}
local function encode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local counter = 0
request = function()
  counter = counter + 1
  local q = questions[counter % #questions + 1]
  local limit = counter % 3 == 0 and 20 or 10
  return wrk.format("GET", "/api/v1/law/search?q=" .. encode(q) .. "&limit=" .. limit,
    {["Authorization"] = "Bearer " .. (os.getenv("KESU_BENCH_TOKEN") or "")})
end
