/**
 * Inputs for the packet-level attacks: a valid packet of each of the 15
 * types (server-only ones included, which a client must not send), mutations
 * of their text and bytes, pure garbage, and byte sequences that are not UTF-8.
 */
import { encode } from '../shared/codec';
import type { Json, Packet, PacketType } from '../shared/packets';
import type { Random } from './random';

export const PACKET_TYPES: readonly PacketType[] = [
  'auth', 'authAck', 'conn', 'connAck', 'hb', 'hbAck', 'sub', 'subAck', 'unsub', 'unsubAck', 'pub', 'pubAck', 'push', 'pushAck', 'disconn',
];

/** Channels the attackers use; `update` is the sample application's reserved one. */
const CHANNELS = ['fuzz', 'fuzz/a', 'update', '$mySubscriptions', '$unknown', '#fz-1', '#good-sub', ' padded ', 'ünï©ødé', 'a'.repeat(600)];

function json(random: Random, depth = 0): Json {
  switch (random.int(0, depth > 3 ? 3 : 6)) {
    case 0: return null;
    case 1: return random.chance(0.5);
    case 2: return random.pick([0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e300, Number.MIN_VALUE]);
    case 3: return random.chance(0.8) ? random.word(random.int(0, 12)) : random.codeUnits(random.int(1, 8)).replace(/[\ud800-\udfff]/g, '?');
    case 4: return Array.from({ length: random.int(0, 4) }, () => json(random, depth + 1));
    default: {
      const object: { [key: string]: Json } = {};
      for (let i = random.int(0, 4); i > 0; i--) object[random.pick(['a', 'b', 'client_name', '__proto__', 'constructor', random.word(4)])] = json(random, depth + 1);
      return object;
    }
  }
}

const flag = (random: Random) => random.pick([0, 1] as const);
const id = (random: Random) => (random.chance(0.8) ? random.word(random.int(1, 10)) : random.int(-5, 1e6));

/** A valid packet of `type` with random fields. */
export function validPacket(random: Random, type: PacketType): Packet {
  const cn = random.pick(CHANNELS).trim();
  switch (type) {
    case 'auth': return { type, dt: random.chance(0.7) ? { client_name: 'fz-' + random.word(4) } : json(random) };
    case 'authAck': return { type, st: random.int(-1, 11), at: random.word(20), cl: random.word(6) };
    case 'conn': return { type, at: random.word(random.int(0, 40)), cl: 'fz-' + random.word(4) };
    case 'connAck': return { type, st: 1, ts: 15 };
    case 'hb': return { type };
    case 'hbAck': return { type };
    case 'sub': return { type, cn, pr: flag(random) };
    case 'subAck': return { type, st: 1, cn };
    case 'unsub': return { type, cn };
    case 'unsubAck': return { type, st: 1, cn };
    case 'pub': return { type, cn, dt: json(random), q: flag(random), rt: flag(random), id: id(random) };
    case 'pubAck': return { type, st: 1, id: id(random), dt: json(random) };
    case 'push': return { type, cn, dt: json(random), cl: random.word(5), q: 1, id: random.word(8) };
    case 'pushAck': return { type, id: id(random), st: random.int(-1, 11) };
    case 'disconn': return { type };
  }
}

export function validText(random: Random): string {
  return encode(validPacket(random, random.pick(PACKET_TYPES)));
}

/** Values of the wrong type or at the edges, to put where a field's value was. */
const ODD_VALUES = [
  'null', 'true', 'false', '0', '-0', '-1', '1e999', '-1e999', '1.5', '9007199254740993', '1e-400', '""', '"x"', '[]', '{}', '[[[]]]',
  '"$"', '"#"', '"   "', '"\\u0000"', '"\\ud800"', '"\\udc00\\ud800"', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{}}}',
  '"' + 'x'.repeat(70_000) + '"', '[' + '1,'.repeat(20_000) + '1]',
];

/** A valid packet's text with one mutation; the name of the mutation comes with it. */
export function mutatedText(random: Random): [kind: string, text: string | Buffer] {
  const base = validText(random);
  const at = random.int(0, base.length - 1);
  switch (random.int(0, 13)) {
    case 0: return ['truncated', base.slice(0, at)];
    case 1: return ['char-replaced', base.slice(0, at) + String.fromCharCode(random.int(0, 127)) + base.slice(at + 1)];
    case 2: return ['char-deleted', base.slice(0, at) + base.slice(at + 1)];
    case 3: return ['range-duplicated', base.slice(0, at) + base.slice(random.int(0, at), at) + base.slice(at)];
    case 4: return ['value-swapped', base.replace(/:("[^"]*"|-?\d[\d.e+-]*|\{\}|\[[^\]]*\]|true|false|null)/, () => ':' + random.pick(ODD_VALUES))];
    case 5: return ['type-renamed', base.replace(/^\{"[^"]+"/, `{"${random.pick([...PACKET_TYPES, 'PUB', 'pub ', '', '__proto__', 'toString', 'hasOwnProperty'])}"`)];
    case 6: return ['extra-key', base.replace(/^\{/, `{"${random.pick(PACKET_TYPES)}":{},`)];
    case 7: return ['body-replaced', `{"${random.pick(PACKET_TYPES)}":${random.pick(ODD_VALUES)}}`];
    case 8: return ['duplicate-field', base.replace(/\}\}$/, `,"cn":${random.pick(ODD_VALUES)},"id":${random.pick(ODD_VALUES)}}}`)];
    case 9: {
      const depth = random.pick([63, 64, 65, 1000, 20_000]);
      return ['deep-nesting', `{"pub":{"cn":"fuzz","id":"d","dt":${'['.repeat(depth)}${']'.repeat(depth)}}}`];
    }
    case 10: {
      const bytes = Buffer.from(base);
      for (let flips = random.int(1, 4); flips > 0; flips--) bytes[random.int(0, bytes.length - 1)]! ^= 1 << random.int(0, 7);
      return ['bits-flipped', bytes];
    }
    case 11: return ['nul-inside', base.slice(0, at) + '\0' + base.slice(at)];
    case 12: return ['wrapped', random.pick([`[${base}]`, `"${base.replace(/"/g, '\\"')}"`, `${base}${base}`, ` \t\r\n${base}\n`])];
    default: return ['unicode-escaped', base.replace(/"([a-z])/g, (_m, letter: string) => `"\\u${letter.charCodeAt(0).toString(16).padStart(4, '0')}`)];
  }
}

/** Bytes that are not UTF-8: overlong forms, surrogates, stray continuation bytes, bytes never used. */
const NOT_UTF8 = [
  [0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80], [0xbf], [0xfe], [0xff], [0xc3], [0xe2, 0x82], [0xf0, 0x9f, 0x98],
];

/** A valid packet with bytes that are not UTF-8 inside one of its strings (or at its end). */
export function invalidUtf8(random: Random): Buffer {
  const text = Buffer.from(validText(random));
  const quote = text.indexOf(0x22, random.int(0, text.length - 1));
  const at = quote < 0 ? text.length : quote + 1;
  return Buffer.concat([text.subarray(0, at), Buffer.from(random.pick(NOT_UTF8)), text.subarray(at)]);
}

/** Random bytes or code units, no packet at all. */
export function garbage(random: Random): [kind: string, bytes: string | Buffer] {
  switch (random.int(0, 3)) {
    case 0: return ['random-bytes', random.bytes(random.int(0, 400))];
    case 1: return ['random-code-units', random.codeUnits(random.int(0, 300))];
    case 2: return ['json-like', Array.from({ length: random.int(1, 60) }, () => random.pick(['{', '}', '[', ']', '"', ':', ',', '\\', 'pub', 'cn', '1', 'null', ' '])).join('')];
    default: return ['empty', ''];
  }
}

/** A frame over MAX_PACKET_BYTES (1 MiB): the broker must close the connection. */
export function oversized(random: Random): string {
  return '{"pub":{"cn":"fuzz","q":1,"id":"big","dt":"' + 'y'.repeat(1024 * 1024 + random.int(1, 1000)) + '"}}';
}
