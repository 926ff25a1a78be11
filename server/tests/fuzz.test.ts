import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, RawClient, startTestBroker } from '../testing/harness';

/** Deterministic pseudo-random numbers, so a failure can be replayed from its seed. */
function generator(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const valid = [
  '{"auth":{"dt":{"client_name":"fz"}}}', '{"conn":{"at":"x","cl":"fz"}}', '{"hb":{}}', '{"sub":{"cn":"fuzz","pr":1}}',
  '{"unsub":{"cn":"fuzz"}}', '{"pub":{"cn":"fuzz","dt":{"a":[1,2]},"q":1,"id":"7","rt":1}}', '{"pushAck":{"id":"x","st":1}}',
  '{"disconn":{}}', '{"pub":{"cn":"$mySubscriptions","dt":{},"id":"8"}}', '{"pub":{"cn":"#good","dt":"p2p","id":"9"}}',
];
const values = ['null', 'true', '0', '-1', '1e999', '"x"', '[]', '{}', '"$"', '"#"', '""', '9007199254740993', '"\\u0000"', '{"__proto__":{"x":1}}'];

function mutate(random: () => number): string | Buffer {
  const pick = <T>(items: T[]) => items[Math.floor(random() * items.length)]!;
  const base = pick(valid);
  switch (Math.floor(random() * 8)) {
    case 0: return base.slice(0, Math.floor(random() * base.length)); // truncated
    case 1: { // a character replaced
      const at = Math.floor(random() * base.length);
      return base.slice(0, at) + String.fromCharCode(Math.floor(random() * 128)) + base.slice(at + 1);
    }
    case 2: return base.replace(/:("[^"]*"|\d+|\{\}|\[[^\]]*\])/, ':' + pick(values)); // a field of another type
    case 3: return `{"${pick(['pub', 'sub', 'auth', 'conn', 'push', 'hbAck'])}":${pick(values)}}`;
    case 4: return Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0xff, 0xfe, 0x22, 0x7d]); // invalid UTF-8
    case 5: return '{"pub":{"cn":"fuzz","id":"d","dt":' + '['.repeat(3000) + ']'.repeat(3000) + '}}';
    case 6: return '{"pub":{"cn":"fuzz","q":1,"id":"big","dt":"' + 'y'.repeat(Math.floor(random() * 200_000)) + '"}}';
    default: return Array.from({ length: Math.floor(random() * 300) }, () => String.fromCharCode(Math.floor(random() * 65536))).join('');
  }
}

describe('fuzz: random and mutated packets at a live broker', () => {
  it('no crash, the good client unaffected, memory bounded', async () => {
    const seed = Number(process.env['JMQT_FUZZ_SEED'] ?? Date.now() % 100_000);
    const random = generator(seed);
    const broker = await startTestBroker({ MAX_PACKET_BYTES: 256 * 1024, CONNECTION_RATE_PER_ADDRESS: 0 });
    try {
      const receiver = await connectClient(broker, 'good-rx');
      const sender = await connectClient(broker, 'good-tx', 'ws');
      await receiver.request({ sub: { cn: 'steady', pr: 1 } }, 'subAck', { st: 1 });
      const rssStart = process.memoryUsage().rss;
      const deadline = Date.now() + 5000;
      let thrown = 0;
      let published = 0;
      const attackers = await Promise.all([
        ...Array.from({ length: 4 }, () => RawClient.open('tcp', broker.ports.socket)),
        ...Array.from({ length: 4 }, () => RawClient.open('ws', broker.ports.webSocket)),
      ]);
      // Half the attackers first open a session, to reach the in-session handlers too.
      for (const [index, attacker] of attackers.entries()) {
        if (index % 2 === 0) continue;
        const ack = await attacker.request({ auth: { dt: { client_name: `fz${index}` } } }, 'authAck');
        await attacker.request({ conn: { at: ack['at'], cl: `fz${index}` } }, 'connAck');
      }
      while (Date.now() < deadline && thrown < 40_000) {
        for (const attacker of attackers) {
          if (attacker.closed) continue;
          const packet = mutate(random);
          if (attacker.rawSocket) attacker.rawSocket.write(Buffer.concat([Buffer.from(packet), Buffer.from([0])]));
          else attacker.sendRaw(packet.toString());
          thrown++;
        }
        published++;
        await sender.request({ pub: { cn: 'steady', dt: published, q: 1, id: String(published) } }, 'pubAck', { id: String(published), st: 1 });
      }
      await receiver.seen('push', { cn: 'steady', dt: published }, 5000);
      const got = new Set(receiver.all('push').filter((push) => push['cn'] === 'steady').map((push) => push['dt']));
      assert.equal(got.size, published, 'every publish of the good client arrived');
      const growth = process.memoryUsage().rss - rssStart;
      assert.ok(growth < 300 * 1024 * 1024, `RSS grew ${Math.round(growth / 1048576)} MiB`);
      assert.deepEqual(await receiver.request({ hb: {} }, 'hbAck'), {});
      process.stdout.write(`# fuzz seed ${seed}: ${thrown} packets thrown, ${published} good publishes delivered, RSS +${Math.round(growth / 1048576)} MiB\n`);
      for (const client of [...attackers, receiver, sender]) client.close();
    } finally {
      await broker.destroy();
    }
  });
});
