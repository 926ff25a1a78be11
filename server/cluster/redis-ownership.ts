/**
 * Ownership in Redis: `<prefix>:fence:<id>` only grows, and
 * `<prefix>:owner:<id>` = `<node>:<fence>` with a lease (PX). Every step is
 * one Lua script, so a claim and its check cannot interleave with another
 * node's claim.
 *
 * Redis may lose every key (a restart without persistence, a failover to a
 * replica behind): fences are therefore at least Redis's clock in
 * microseconds, so they keep growing across such a loss, and an owner whose
 * key vanished sets it again on its next renewal instead of dropping its
 * sessions (a key held by another node still means the client id is lost).
 */
import { Redis } from 'ioredis';
import type { Ownership } from './ownership';
import { redisOptions, type RedisBusOptions } from './redis';

// Microseconds since 1970 stay below 2^53, exact in Lua's doubles; '%d'
// keeps them whole (Lua's own number-to-string would write 1.76e+15).
const CLAIM = `
local now = redis.call('TIME')
local fence = math.max(tonumber(redis.call('GET', KEYS[2]) or '0') + 1, tonumber(now[1]) * 1000000 + tonumber(now[2]))
local text = string.format('%d', fence)
redis.call('SET', KEYS[2], text, 'PX', ARGV[3])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. text, 'PX', ARGV[2])
return fence`;

/** How long a fence counter is kept after its last claim, ms; past it the clock alone keeps fences growing. */
const FENCE_KEPT_MS = 24 * 3600 * 1000;

const RENEW = `
local lost = {}
for i, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
  elseif owner == false then
    redis.call('SET', key, ARGV[i + 1], 'PX', ARGV[1])
  else
    table.insert(lost, i)
  end
end
return lost`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisOwnership implements Ownership {
  private readonly redis: Redis;
  private readonly prefix: string;

  constructor(private readonly nodeId: string, options: RedisBusOptions, readonly leaseMs: number) {
    this.prefix = options.prefix ?? 'jmqt';
    this.redis = new Redis(redisOptions(options));
    this.redis.on('error', () => undefined);
  }

  async claim(clientId: string): Promise<number> {
    return Number(await this.redis.eval(CLAIM, 2, this.ownerKey(clientId), this.fenceKey(clientId), this.nodeId, this.leaseMs, FENCE_KEPT_MS));
  }

  async holds(clientId: string, fence: number): Promise<boolean> {
    return (await this.redis.get(this.ownerKey(clientId))) === `${this.nodeId}:${fence}`;
  }

  async renew(held: Array<[string, number]>): Promise<string[]> {
    if (held.length === 0) return [];
    const lost = (await this.redis.eval(
      RENEW, held.length, ...held.map(([clientId]) => this.ownerKey(clientId)),
      this.leaseMs, ...held.map(([, fence]) => `${this.nodeId}:${fence}`),
    )) as number[];
    return lost.map((index) => held[index - 1]![0]);
  }

  async release(clientId: string, fence: number): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.ownerKey(clientId), `${this.nodeId}:${fence}`);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private ownerKey(clientId: string): string {
    return `${this.prefix}:owner:${clientId}`;
  }

  private fenceKey(clientId: string): string {
    return `${this.prefix}:fence:${clientId}`;
  }
}
