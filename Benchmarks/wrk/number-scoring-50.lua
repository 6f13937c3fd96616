-- Benchmarks/wrk/number-scoring-50.lua: 50 msisdns per request (the batcher's default size)
wrk.method = "POST"
wrk.headers["X-API-KEY"] = "sandbox-key"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  local parts = {}
  for i = 1, 50 do
    n = n + 1
    parts[i] = string.format('"43650%07d"', n % 9000000 + 1000000)
  end
  return wrk.format(nil, nil, nil, '{"msisdn":[' .. table.concat(parts, ",") .. ']}')
end
