-- wrk: POST an anonymous group's registration with a fresh Idempotency-Key per request, as a
-- desk that may retry would (every key is new: this measures the claim, not replays)
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"room": "multibron", "activity": "connection", "occurredOn": "2024-05-01", "headcount": 3}'

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

local prefix
local counter = 0

function init(args)
  math.randomseed(os.time() * 1000 + thread_id)
  prefix = string.format("bench-%d-%d-%08x", os.time(), thread_id, math.random(0, 0x7fffffff))
end

function request()
  counter = counter + 1
  local headers = {}
  for name, value in pairs(wrk.headers) do
    headers[name] = value
  end
  headers["Idempotency-Key"] = prefix .. "-" .. counter
  return wrk.format(nil, nil, headers, nil)
end
