-- mix.lua — the wrk script of bench/serve/run: GET /api/search with a mix of relationship-manager
-- queries (hard filters, soft boosts, free text, and combinations), round robin per connection,
-- and a summary line the run script parses.
local queries = {
  "Find high-income professionals nearing retirement who might be interested in wealth management services",
  "Young professionals with good credit scores who might qualify for premium credit cards",
  "Customers with credit score over 750 interested in investment products",
  "affluent customers with children in college who might need education loans",
  "customers under 35 with income over $100k",
  "retired homeowners in Chicago",
  "small business owners with a mortgage",
  "customers over 60 with savings accounts",
  "credit score under 600",
  "high net worth clients interested in estate planning",
}

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

local paths = {}
for i, q in ipairs(queries) do
  paths[i] = "/api/search?top=10&q=" .. urlencode(q)
end

local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 3
end

-- BENCH_UNIQUE=1: every request's text differs (a nonsense word "zq<n>" appended), so no query
-- vector comes from the server's cache: the cost of embedding every query.
local unique = os.getenv("BENCH_UNIQUE") == "1"
local n = 0
function request()
  n = n + 1
  local i = (n + (offset or 0)) % #paths + 1
  local p = paths[i]
  if unique then
    p = p .. "%20zq" .. tostring(offset or 0) .. "x" .. tostring(n)
  end
  return wrk.format("GET", p, headers)
end

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errs = summary.errors.status + summary.errors.connect + summary.errors.read +
               summary.errors.write + summary.errors.timeout
  io.write(string.format("SUMMARY qps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f requests=%d errors=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests, errs))
end
