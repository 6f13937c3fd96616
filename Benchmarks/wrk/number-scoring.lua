-- Benchmarks/wrk/number-scoring.lua: one msisdn per request
wrk.method = "POST"
wrk.headers["X-API-KEY"] = "sandbox-key"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, string.format('{"msisdn":["43650%07d"]}', n % 9000000 + 1000000))
end
