-- wrk script: POST /v1/messages with a random 160-bit tag and a 1 KiB payload.
local payload = string.rep("AAAA", 341) .. "AA=="
local hex = {"0","1","2","3","4","5","6","7","8","9","a","b","c","d","e","f"}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  local t = {}
  for i = 1, 40 do t[i] = hex[math.random(1, 16)] end
  local body = '{"tag":"' .. table.concat(t) .. '","payload":"' .. payload .. '"}'
  return wrk.format("POST", "/v1/messages", { ["content-type"] = "application/json" }, body)
end
done = function(summary, latency, requests)
  local codes = summary.errors
  io.write(string.format("JSON {\"requests\":%d,\"duration_us\":%d,\"p50_us\":%d,\"p99_us\":%d,\"non2xx\":%d,\"socket_errors\":%d}\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), codes.status,
    codes.connect + codes.read + codes.write + codes.timeout))
end
