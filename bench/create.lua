-- wrk script: POST /api/v1/complaints with a different body every request.
-- Varies phone, province (incl. 河南省 and 重庆市, which carry provincial
-- deadline rules), city, area, kind, channel, category and description.
-- Usage: wrk -t1 -c4 -d30s --latency -s bench/create.lua http://127.0.0.1:PORT
-- With KESU_BENCH_NO_CATEGORY=1 in the environment the body has no category, so
-- registration runs the triage classifier on it (http_bench.py scenario create_nocat).

local provinces = {
  {"河南省", {"郑州市", "洛阳市", "南阳市"}}, {"河南省", {"新乡市", "周口市"}},
  {"重庆市", {"渝中区", "江北区", "万州区"}}, {"重庆市", {"沙坪坝区"}},
  {"广东省", {"广州市", "深圳市"}}, {"江苏省", {"南京市", "苏州市"}},
  {"四川省", {"成都市"}}, {"浙江省", {"杭州市"}}, {"北京市", {"朝阳区"}},
  {"上海市", {"浦东新区"}}, {"湖北省", {"武汉市"}}, {"山东省", {"青岛市"}},
}
local kinds = {"complaint", "complaint", "complaint", "complaint", "complaint",
               "complaint", "consultation", "fault", "fault", "inquiry", "appeal"}
local channels = {"hotline", "hotline", "hotline", "hotline", "app", "web", "wechat",
                  "store", "chat", "sms", "email", "weibo", "group_hotline", "regulator"}
local categories = {"network", "billing", "unauthorized", "marketing", "handling",
                    "usage", "service", "security", "other"}
local subjects = {"用户来电反映", "客户在营业厅表示", "用户通过App留言称",
                  "客户致电10000号称", "用户微信留言反映"}
local issues = {"本月话费比上月多扣了三十元，未收到任何短信提醒",
                "家中宽带晚上经常掉线，报修两次仍未解决",
                "被开通了不知情的视频会员包月业务",
                "营业员办理套餐时承诺的优惠未兑现",
                "手机在小区内信号很差，通话经常中断",
                "携号转网申请被无故拒绝",
                "停机保号后仍被收取月租费",
                "营销短信过多，退订后仍然收到"}
local demands = {"要求退还多收费用", "要求尽快修复", "要求取消业务并退费", "要求书面答复"}
local prefixes = {"13", "15", "17", "18", "19"}

local function pick(t) return t[math.random(#t)] end

local headers = {["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. (os.getenv("KESU_BENCH_TOKEN") or "")}

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + (wrk.thread and 0 or 0))
end

local no_category = (os.getenv("KESU_BENCH_NO_CATEGORY") or "") ~= ""

local counter = 0
function request()
  counter = counter + 1
  local p = pick(provinces)
  local area = (math.random(5) == 1) and "rural" or "urban"
  local category = pick(categories)
  local cat_json = no_category and "" or string.format('"category":"%s",', category)
  local body = string.format(
    '{"channel":"%s","customer":{"phone":"%s%09d","province":"%s","city":"%s","area":"%s"},' ..
    '"kind":"%s",%s"description":"%s%s，%s。（编号%d-%d）"}',
    pick(channels), pick(prefixes), math.random(0, 999999999), p[1], pick(p[2]), area,
    pick(kinds), cat_json, pick(subjects), pick(issues), pick(demands),
    counter, math.random(0, 999999))
  return wrk.format("POST", "/api/v1/complaints", headers, body)
end
