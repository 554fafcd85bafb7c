// The Lua scripts of redisStore. One script per commit makes the commit
// atomic on one Redis without WATCH/MULTI, which a client that multiplexes
// one connection for many callers cannot isolate.
//
// Layout (see redis.ts): a plain key is a string "<stamp><t|b><payload>"; a
// user index is a sorted set (member = session id, score = hard end in ms,
// "inf" for no end) plus a hash beside it (member -> "<stamp><t|b><payload>",
// and field "" -> the user id, so a scan can name the index's keys).
// Stamps are 32 characters: 16 hex digits of a counter, 16 random hex digits.
import { createHash } from "node:crypto";

/** A script's source and SHA-1, for EVALSHA with an EVAL fallback. */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/** Server time in ms and µs: every node of a commit judges expiry alike. */
const CLOCK = `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nowUs = tonumber(t[1]) * 1000000 + tonumber(t[2])
`;

/**
 * A checked commit. ARGV: random stamp suffix, #checks, #deletes, #sets,
 * then per check (kind, key index, member, expected stamp or ""), per
 * delete (kind, key index, member, "before" or ""), per set (kind, key
 * index, member, value, expireIn or "", user id or ""). Kind "s" is a plain
 * key at KEYS[i]; kind "i" is an index member, sorted set KEYS[i], hash
 * KEYS[i+1]. An index delete with a "before" (server µs) spares a member
 * written at or after that time (Cluster: a login's re-add after a revoke
 * read the index). Returns the new stamp, or false when a check failed
 * (nothing written).
 */
export const COMMIT: Script = script(
  CLOCK + `
local function stamp(kind, k, member)
  if kind == 's' then return redis.call('GETRANGE', KEYS[k], 0, 31) end
  local score = redis.call('ZSCORE', KEYS[k], member)
  if not score or tonumber(score) <= nowMs then return '' end
  local v = redis.call('HGET', KEYS[k + 1], member)
  if not v then return '' end
  return string.sub(v, 1, 32)
end
local nc, nd, ns = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local a = 5
for i = 1, nc do
  if stamp(ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2]) ~= ARGV[a + 3] then
    return false
  end
  a = a + 4
end
-- The new stamp sorts after every current stamp of the keys it writes.
local counter = nowUs
local b = a + 4 * nd
for i = 1, ns do
  local old = stamp(ARGV[b], tonumber(ARGV[b + 1]), ARGV[b + 2])
  if old ~= '' then
    local n = tonumber(string.sub(old, 1, 16), 16)
    if n and n >= counter then counter = n + 1 end
  end
  b = b + 6
end
local vs = string.format('%016x', counter) .. ARGV[1]
local touched = {}
for i = 1, nd do
  local kind, k, member, before = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 3]
  if kind == 's' then
    redis.call('DEL', KEYS[k])
  else
    local spared = false
    if before ~= '' then
      local v = redis.call('HGET', KEYS[k + 1], member)
      if v then
        local n = tonumber(string.sub(v, 1, 16), 16)
        spared = n ~= nil and n >= tonumber(before)
      end
    end
    if not spared then
      redis.call('ZREM', KEYS[k], member)
      redis.call('HDEL', KEYS[k + 1], member)
      touched[k] = true
    end
  end
  a = a + 4
end
for i = 1, ns do
  local kind, k, member, px = ARGV[a], tonumber(ARGV[a + 1]), ARGV[a + 2], ARGV[a + 4]
  if kind == 's' then
    if px == '' then
      redis.call('SET', KEYS[k], vs .. ARGV[a + 3])
    else
      redis.call('SET', KEYS[k], vs .. ARGV[a + 3], 'PX', px)
    end
  else
    local score = '+inf'
    if px ~= '' then score = nowMs + tonumber(px) end
    redis.call('ZADD', KEYS[k], score, member)
    redis.call('HSET', KEYS[k + 1], member, vs .. ARGV[a + 3], '', ARGV[a + 5])
    touched[k] = true
  end
  a = a + 6
end
-- Each touched index drops members past their hard end (a bounded number
-- per commit) and lives as long as its longest-lived member.
for k in pairs(touched) do
  local z, h = KEYS[k], KEYS[k + 1]
  local dead = redis.call('ZRANGEBYSCORE', z, '-inf', nowMs, 'LIMIT', 0, 64)
  if #dead > 0 then
    redis.call('ZREM', z, unpack(dead))
    redis.call('HDEL', h, unpack(dead))
  end
  local top = redis.call('ZRANGE', z, -1, -1, 'WITHSCORES')
  if #top == 0 then
    redis.call('DEL', z, h)
  elseif top[2] == 'inf' then
    redis.call('PERSIST', z)
    redis.call('PERSIST', h)
  else
    redis.call('PEXPIREAT', z, top[2])
    redis.call('PEXPIREAT', h, top[2])
  end
end
return vs
`,
);

/**
 * Reads a user index: sorted set KEYS[1], hash KEYS[2]. ARGV[1] is one
 * member, or "" for all. Returns [member, data, member, data, …] of the
 * members whose hard end is still ahead.
 */
export const INDEX_READ: Script = script(
  CLOCK + `
local members
if ARGV[1] == '' then
  members = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. nowMs, '+inf')
else
  local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not score or tonumber(score) <= nowMs then return {} end
  members = { ARGV[1] }
end
local out = {}
for _, m in ipairs(members) do
  local v = redis.call('HGET', KEYS[2], m)
  if v then
    out[#out + 1] = m
    out[#out + 1] = v
  end
end
return out
`,
);

/** Server time in µs, as a decimal string, on the node of KEYS[1]. */
export const NOW: Script = script(`
local t = redis.call('TIME')
return t[1] .. string.format('%06d', tonumber(t[2]))
`);

/** Deletes each plain key of KEYS whose stamp ends with ARGV[1]: the undo of
 * a Cluster commit's part that created them, when a later part failed. */
export const UNDO: Script = script(`
for _, k in ipairs(KEYS) do
  if string.sub(redis.call('GETRANGE', k, 0, 31), 17, 32) == ARGV[1] then
    redis.call('DEL', k)
  end
end
return 1
`);

/** One SCAN step on the node that holds KEYS[1] (a key routed there only to
 * pick the node). ARGV: cursor, pattern, count. */
export const SCAN: Script = script(`
return redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
`);
