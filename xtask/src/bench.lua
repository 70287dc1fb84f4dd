-- wrk script of `cargo xtask bench` (BENCH_MODE: floor, policy, verify, register, list).
local mode = os.getenv("BENCH_MODE")
local tokens, n = {}, 0
local counter = 0
function setup(thread) thread:set("tid", counter); counter = counter + 1 end
function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS"))
  local i = 0
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    -- registrations take disjoint slices: a token is used once
    if mode ~= "register" or i % threads == tid then table.insert(tokens, line) end
    i = i + 1
  end
  assert(#tokens > 0, "no tokens in " .. os.getenv("BENCH_TOKENS"))
  -- verifying threads start at different tokens; registering ones use their whole slice
  if mode ~= "register" then n = (tid * 7919) % #tokens end
end
local json = { ["Content-Type"] = "application/json" }
function request()
  n = n + 1
  if mode == "floor" then return wrk.format("GET", "/healthz") end
  if mode == "policy" then return wrk.format("GET", "/api/v1/signup-policy") end
  if mode == "list" then
    return wrk.format("GET", "/api/v1/invitations?limit=50", { ["Authorization"] = "Bearer " .. os.getenv("BENCH_KEY") })
  end
  if mode == "register" then
    -- out of tokens: stop (the request wrk still sends reuses one and is refused: mint more)
    if n > #tokens then wrk.thread:stop(); n = #tokens end
    local token, email = tokens[n]:match("^(%S+) (%S+)$")
    return wrk.format("POST", "/api/v1/register", json, string.format(
      '{"email":"%s","password":"correct-horse-battery-staple-42","invite_token":"%s"}', email, token))
  end
  local token = tokens[(n % #tokens) + 1]:match("^(%S+)")
  return wrk.format("POST", "/api/v1/invitations/verify", json, '{"token":"' .. token .. '"}')
end
function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format("@@ %.1f %.1f %.2f %.2f %d\n", summary.requests / s,
    (summary.requests - summary.errors.status) / s, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, summary.errors.status))
end
