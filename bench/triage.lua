-- wrk script: POST /api/v1/triage with a different text every request.
-- Usage: wrk -t1 -c4 -d30s --latency -s bench/triage.lua http://127.0.0.1:PORT/api/v1/triage
local subjects = {"用户来电反映", "客户称", "我家", "客户到厅反映", "用户微博留言："}
local issues = {"宽带晚上经常掉线，光猫红灯闪", "本月话费多扣了三十元", "被开通了视频会员包月",
                "说好的话费返还一直没到账", "携号转网授权码收不到", "短信发不出去提示失败",
                "客服态度很差还挂电话", "每天接到贷款推销电话", "手机信号只有一格打电话断线"}
local tails = {"，要求尽快处理。", "，再不解决就找记者曝光！", "，已经第三次来电了。",
               "，要求退费并书面答复。", "。"}
local cities = {"郑州市", "洛阳市", "重庆市", "广州市", "成都市"}
local counter = 0

request = function()
  counter = counter + 1
  local text = subjects[counter % #subjects + 1] .. issues[counter % #issues + 1]
      .. tails[counter % #tails + 1] .. "（" .. counter .. "）"
  local phone = string.format("139%08d", counter % 5000)
  local body = string.format('{"text":"%s","customer_phone":"%s","city":"%s"}',
      text, phone, cities[counter % #cities + 1])
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. (os.getenv("KESU_BENCH_TOKEN") or "")}, body)
end
