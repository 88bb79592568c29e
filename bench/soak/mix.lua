-- mix.lua — the wrk script of bench/soak/run: every serving route, weighted like a working day
-- (search 40 %, similar 15 %, /invocations 15 %, model score 10 %, recommendations 10 %,
-- /metrics 10 %), paced so that the connections together ask SOAK_QPS requests a second, and a
-- summary line the run script parses (non-2xx answers are counted as errors by wrk).
local qps = tonumber(os.getenv("SOAK_QPS") or "1000")
local conns = tonumber(os.getenv("SOAK_CONNECTIONS") or "8")
local n_rec = tonumber(os.getenv("SOAK_REC_CUSTOMERS") or "100")
local n_book = tonumber(os.getenv("SOAK_BOOK_ROWS") or "1000")

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local queries = {
  "customers over 60 with savings accounts", "affluent customers with a mortgage",
  "credit score under 600", "young professionals with good credit scores",
  "retired homeowners in Chicago", "customers under 35 with income over $100k",
}
local json = "application/json"
local kinds = {}
local function add(kind, weight) for _ = 1, weight do kinds[#kinds + 1] = kind end end
add("search", 8) add("similar", 3) add("invocations", 3) add("score", 2) add("recs", 2)
add("metrics", 2)

local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 7
end

local n = 0
function request()
  n = n + 1
  local k = kinds[(n + (offset or 0)) % #kinds + 1]
  local i = n % #queries + 1
  if k == "search" then
    return wrk.format("GET", "/api/search?top=10&q=" .. urlencode(queries[i]))
  elseif k == "similar" then
    return wrk.format("GET", string.format("/api/customers/CUST-%06d/similar?top=5", n % n_book + 1))
  elseif k == "invocations" then
    return wrk.format("POST", "/invocations", {["Content-Type"] = json},
      '{"inputs": ["' .. queries[i] .. '"], "params": {"top": 5}}')
  elseif k == "score" then
    return wrk.format("POST", "/api/models/m/score", {["Content-Type"] = json},
      string.format('{"rows": [{"income": %d, "region": "%s"}]}', 20 + n % 100,
        n % 2 == 0 and "north" or "south"))
  elseif k == "recs" then
    return wrk.format("GET", string.format("/api/customers/CUS-%06d/recommendations?top=5",
      n % n_rec + 1))
  end
  return wrk.format("GET", "/metrics")
end

-- each connection waits its share of the second before its next request
function delay()
  return conns * 1000 / qps
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errs = summary.errors.status + summary.errors.connect + summary.errors.read +
               summary.errors.write + summary.errors.timeout
  io.write(string.format("SUMMARY qps=%.1f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d errors=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests, errs, summary.errors.status, summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout))
end
