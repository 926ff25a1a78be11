/**
 * Property-based tests of the codec (fast-check): every valid packet of the
 * 15 types survives encode → decode unchanged, and no text or byte sequence
 * whatever makes decode throw: it answers an error result instead.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decode, encode, encodePush } from './codec';
import { normaliseChannel } from './channel';
import { MAX_DATA_DEPTH } from './keys';
import { PacketTypes, type Json, type Packet, type PacketType } from './packets';
import { Status } from './status';

const RUNS = { numRuns: 500 };
const TYPES = Object.keys(PacketTypes) as PacketType[];

/** Any UTF-16 code unit, lone surrogates included (JSON.stringify escapes them, JSON.parse restores them). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), fc.string({ unit: codeUnit, maxLength: 20 }));
const nonEmptyText = text.filter((value) => value !== '');
/** A channel name as decode answers it: already trimmed, not empty, not `$` or `#` alone. */
const channel = fc.oneof(text, text.map((name) => '$' + name), text.map((name) => '#' + name)).filter((name) => normaliseChannel(name) === name);
/**
 * fast-check builds records and dictionaries without a prototype; JSON.parse
 * builds plain objects. Same own properties (`__proto__` included), plain
 * prototype. And -0 is no JSON value (JSON.stringify writes 0), so it is 0.
 */
function plain<T>(value: T): T {
  if (Object.is(value, -0)) return 0 as T;
  if (Array.isArray(value)) return value.map(plain) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)])) as T;
}

const json: fc.Arbitrary<Json> = (fc.jsonValue({ maxDepth: 5, stringUnit: 'binary' }) as fc.Arbitrary<Json>).map(plain);
const flag = fc.constantFrom(0 as const, 1 as const);
const integer = fc.oneof(fc.integer(), fc.maxSafeInteger());
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((value) => !Object.is(value, -0));
const packetId = fc.oneof(text, integer, finite);

const arbitraries: { [T in PacketType]: fc.Arbitrary<Extract<Packet, { type: T }>> } = {
  auth: fc.record({ type: fc.constant('auth'), dt: json }),
  authAck: fc.record({ type: fc.constant('authAck'), st: integer, at: text, cl: text, mg: text }, { requiredKeys: ['type', 'st'] }),
  conn: fc.record({ type: fc.constant('conn'), at: text, cl: nonEmptyText }),
  connAck: fc.record({ type: fc.constant('connAck'), st: integer, ts: integer }, { requiredKeys: ['type', 'st'] }),
  hb: fc.constant({ type: 'hb' }),
  hbAck: fc.constant({ type: 'hbAck' }),
  sub: fc.record({ type: fc.constant('sub'), cn: channel, pr: flag }),
  subAck: fc.record({ type: fc.constant('subAck'), st: integer, cn: text }),
  unsub: fc.record({ type: fc.constant('unsub'), cn: channel }),
  unsubAck: fc.record({ type: fc.constant('unsubAck'), st: integer, cn: text }),
  // Protocol 3.7: an id is required with q=1 and on control channels.
  pub: fc.record({ type: fc.constant('pub'), cn: channel, dt: json, q: flag, rt: flag, id: packetId }, { requiredKeys: ['type', 'cn', 'dt', 'q', 'rt'] })
    .filter((packet) => packet.id !== undefined || (packet.q === 0 && !packet.cn.startsWith('$'))),
  pubAck: fc.record({ type: fc.constant('pubAck'), st: integer, id: packetId, dt: json }, { requiredKeys: ['type', 'st'] }),
  push: fc.record({ type: fc.constant('push'), cn: text, dt: json, cl: text, q: flag, id: text, rt: flag }, { requiredKeys: ['type', 'cn', 'dt', 'cl'] }),
  pushAck: fc.record({ type: fc.constant('pushAck'), id: packetId, st: integer }),
  disconn: fc.constant({ type: 'disconn' }),
};
const packetOf = (type: PacketType) => (arbitraries[type] as fc.Arbitrary<Packet>).map(plain);
const anyPacket: fc.Arbitrary<Packet> = fc.oneof(...TYPES.map(packetOf));

/** decode() must answer, never throw; an error names status 10 or 11 and a reason. */
function assertAnswers(input: string): void {
  const result = decode(input);
  if (result.ok) return;
  assert.ok(result.status === Status.INVALID_PACKET || result.status === Status.INVALID_CHANNEL, `status ${result.status}`);
  assert.equal(typeof result.message, 'string');
  assert.ok(result.message.length > 0);
  if (result.status === Status.INVALID_CHANNEL) assert.equal(typeof result.cn, 'string');
}

describe('codec properties: round trips', () => {
  for (const type of TYPES) {
    it(`decode(encode(p)) equals p for every valid ${type}`, () => {
      fc.assert(fc.property(packetOf(type), (packet) => {
        assert.deepStrictEqual(decode(encode(packet)), { ok: true, packet });
      }), RUNS);
    });
  }

  it('a push written by encodePush decodes to the same fields', () => {
    const extra = fc.oneof(fc.constant('' as const), fc.constant('retained' as const), text.map((id) => ({ id })));
    fc.assert(fc.property(text, json, text, extra, (cn, dt, cl, more) => {
      const expected: Packet = more === '' ? { type: 'push', cn, dt, cl }
        : more === 'retained' ? { type: 'push', cn, dt, cl, rt: 1 }
          : { type: 'push', cn, dt, cl, q: 1, id: more.id };
      assert.deepStrictEqual(decode(encodePush(cn, JSON.stringify(dt), cl, more)), { ok: true, packet: expected });
    }), RUNS);
  });

  it('whatever decodes, encodes to a text that decodes to the same packet (a normal form)', () => {
    const body = fc.dictionary(fc.constantFrom('cn', 'id', 'dt', 'q', 'rt', 'st', 'at', 'cl', 'pr', 'ts', 'mg'), fc.jsonValue({ maxDepth: 2 }));
    fc.assert(fc.property(fc.constantFrom(...TYPES), body, (type, fields) => {
      const first = decode(JSON.stringify({ [type]: fields }));
      if (!first.ok) return;
      assert.deepStrictEqual(decode(encode(first.packet)), first);
    }), { numRuns: 2000 });
  });

  it(`data nested up to ${MAX_DATA_DEPTH} levels is accepted, deeper is refused with 10`, () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3 * MAX_DATA_DEPTH }), fc.boolean(), (depth, objects) => {
      const open = objects ? '{"a":' : '[';
      const close = objects ? '}' : ']';
      const result = decode(`{"pub":{"cn":"c","id":"1","dt":${open.repeat(depth)}1${close.repeat(depth)}}}`);
      if (depth <= MAX_DATA_DEPTH) assert.equal(result.ok, true);
      else assert.deepStrictEqual([result.ok, !result.ok && result.status, !result.ok && result.id], [false, Status.INVALID_PACKET, '1']);
    }), RUNS);
  });
});

describe('codec properties: decode never throws', () => {
  it('on arbitrary strings (any code units)', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: codeUnit })), assertAnswers), { numRuns: 2000 });
  });

  it('on arbitrary bytes read as UTF-8', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => assertAnswers(Buffer.from(bytes).toString('utf8'))), { numRuns: 2000 });
  });

  it('on any JSON under any key, packet types included', () => {
    const key = fc.oneof(fc.constantFrom(...TYPES, '__proto__', 'constructor', 'toString', 'hasOwnProperty'), text);
    fc.assert(fc.property(key, fc.jsonValue({ maxDepth: 4 }), (type, body) => assertAnswers(JSON.stringify({ [type]: body }))), { numRuns: 2000 });
  });

  it('on packet bodies with fields of any type', () => {
    const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-0, 1e308, -1e308, 5e-324));
    const body = fc.dictionary(fc.constantFrom('cn', 'id', 'dt', 'q', 'rt', 'st', 'at', 'cl', 'pr', 'ts', 'mg', '__proto__'), value);
    fc.assert(fc.property(fc.constantFrom(...TYPES), body, (type, fields) => assertAnswers(JSON.stringify({ [type]: fields }))), { numRuns: 3000 });
  });

  it('on valid packets with characters inserted, deleted or replaced', () => {
    const edit = fc.tuple(fc.nat(), fc.nat({ max: 3 }), fc.string({ unit: codeUnit, maxLength: 3 }));
    fc.assert(fc.property(anyPacket, fc.array(edit, { minLength: 1, maxLength: 4 }), (packet, edits) => {
      let wire = encode(packet);
      for (const [at, remove, insert] of edits) {
        const index = at % (wire.length + 1);
        wire = wire.slice(0, index) + insert + wire.slice(index + remove);
      }
      assertAnswers(wire);
    }), { numRuns: 2000 });
  });

  it('on numbers JSON cannot carry back out, and huge texts', () => {
    fc.assert(fc.property(fc.constantFrom('1e999', '-1e999', '1e400', '123456789012345678901234567890'), fc.constantFrom(...TYPES), fc.constantFrom('dt', 'st', 'id', 'ts', 'q'), (number, type, field) => {
      assertAnswers(`{"${type}":{"cn":"c","id":"1","${field}":${number}}}`);
      assertAnswers(`{"${type}":{"cn":"c","dt":[${number}],"id":"1"}}`);
    }), { numRuns: 300 });
  });
});
