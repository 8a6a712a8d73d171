"""Redis keys owned by one holder (a lock, a lease): Lua scripts that renew or delete the key
only while it still holds the caller's token, so a holder whose key lapsed and was taken by
another can never extend or free the new holder's. Used by the GPU worker's lock and the live
workers' session leases. KEYS[1]: the key. ARGV[1]: the caller's token; RENEW's ARGV[2]: TTL ms."""
from __future__ import annotations

RENEW_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

DELETE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
