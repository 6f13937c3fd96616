-- Benchmarks/wrk/phone-risk.lua: a different Austrian mobile number on every request
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer sandbox-token"
wrk.headers["Content-Type"] = "application/json"
local n = 0
request = function()
  n = n + 1
  local body = string.format('{"phoneNumber":"+43650%07d","accountLifecycleEvent":"create","externalId":"ev-%d"}', n % 9000000 + 1000000, n)
  return wrk.format(nil, nil, nil, body)
end
