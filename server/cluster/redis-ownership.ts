/**
 * Ownership in Redis: `<prefix>:fence:<id>` only grows (INCR), and
 * `<prefix>:owner:<id>` = `<node>:<fence>` with a lease (PX). Every step is
 * one Lua script, so a claim and its check cannot interleave with another
 * node's claim.
 */
import { Redis } from 'ioredis';
import type { Ownership } from './ownership';
import { redisOptions, type RedisBusOptions } from './redis';

const CLAIM = `
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. fence, 'PX', ARGV[2])
return fence`;

const RENEW = `
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i + 1] then
    redis.call('PEXPIRE', key, ARGV[1])
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
    return Number(await this.redis.eval(CLAIM, 2, this.ownerKey(clientId), this.fenceKey(clientId), this.nodeId, this.leaseMs));
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
