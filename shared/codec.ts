/**
 * JMQT 1.0 codec: text → typed packet or a precise error, packet → text.
 * Decoding and encoding are separate functions (ARCHITECTURE rule 4); the
 * field tolerance follows protocol 3.11.
 */
import { MAX_DATA_DEPTH } from './keys';
import { normaliseChannel } from './channel';
import { Status } from './status';
import {
  isPacketType, type Flag, type Json, type Packet, type PacketId, type PacketType, type PubPacket, type PushPacket,
} from './packets';

/** Why a text is not a packet, with what is known of it so the server can answer the matching ack. */
export interface DecodeError {
  ok: false;
  /** 10 INVALID_PACKET, or 11 INVALID_CHANNEL for a channel name that is no name. */
  status: typeof Status.INVALID_PACKET | typeof Status.INVALID_CHANNEL;
  message: string;
  type?: PacketType;
  cn?: string;
  id?: PacketId;
}
export type DecodeResult = { ok: true; packet: Packet } | DecodeError;

type Body = Record<string, unknown>;
type Decoder = (body: Body) => DecodeResult;

function isBody(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(message: string, type?: PacketType, extra?: { cn?: string; id?: PacketId; status?: 11 }): DecodeError {
  return { ok: false, status: extra?.status ?? Status.INVALID_PACKET, message, type, cn: extra?.cn, id: extra?.id };
}

function ok(packet: Packet): DecodeResult {
  return { ok: true, packet };
}

/** Leaves absent optional fields out, so a decoded packet equals the one that was encoded. */
function withoutAbsent<T extends object>(packet: T): T {
  for (const key in packet) if (packet[key] === undefined) delete packet[key];
  return packet;
}

/** Protocol 3.11: flags accept 0/1, true/false and "0"/"1"; absent means the default. */
function flag(value: unknown, fallback: Flag): Flag | null {
  switch (value) {
    case undefined: return fallback;
    case 0: case false: case '0': return 0;
    case 1: case true: case '1': return 1;
    default: return null;
  }
}

/** Protocol 3.11: `id` is a string; a finite number is tolerated and echoed as received. */
function packetId(value: unknown): PacketId | undefined | null {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  return null;
}

function integer(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) ? value : null;
}

/**
 * True when data nests deeper than the limit (stopping there) or holds a
 * number JSON cannot carry back out (1e999 parses to Infinity).
 */
function unfitData(value: unknown, depthLeft: number): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  if (depthLeft === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (unfitData(item, depthLeft - 1)) return true;
    return false;
  }
  for (const key in value) if (unfitData((value as Body)[key], depthLeft - 1)) return true;
  return false;
}

function data(value: unknown): Json | undefined | null {
  if (value === undefined) return undefined;
  return unfitData(value, MAX_DATA_DEPTH) ? null : (value as Json);
}

function channel(body: Body, type: PacketType, id?: PacketId): string | DecodeError {
  const raw = body['cn'];
  if (typeof raw !== 'string') return fail(`${type}: 'cn' must be a string`, type, { id });
  const name = normaliseChannel(raw);
  if (name === null) return fail(`${type}: channel name '${raw}' is not a name`, type, { cn: raw, id, status: 11 });
  return name;
}

function status(body: Body, type: PacketType): number | DecodeError {
  const st = integer(body['st']);
  return st === null ? fail(`${type}: 'st' must be an integer`, type) : st;
}

const decoders: Record<PacketType, Decoder> = {
  auth(body) {
    const dt = data(body['dt']);
    if (dt === undefined) return fail("auth: 'dt' is required", 'auth');
    if (dt === null && body['dt'] !== null) return fail(`auth: 'dt' nests deeper than ${MAX_DATA_DEPTH} or holds a number out of range`, 'auth');
    return ok({ type: 'auth', dt });
  },
  authAck(body) {
    const st = status(body, 'authAck');
    if (typeof st !== 'number') return st;
    const { at, cl, mg } = body;
    if (at !== undefined && typeof at !== 'string') return fail("authAck: 'at' must be a string", 'authAck');
    if (cl !== undefined && typeof cl !== 'string') return fail("authAck: 'cl' must be a string", 'authAck');
    if (mg !== undefined && typeof mg !== 'string') return fail("authAck: 'mg' must be a string", 'authAck');
    return ok(withoutAbsent({ type: 'authAck', st, at, cl, mg }));
  },
  conn(body) {
    const { at, cl } = body;
    if (typeof at !== 'string') return fail("conn: 'at' must be a string", 'conn');
    if (typeof cl !== 'string' || cl === '') return fail("conn: 'cl' must be a non-empty string", 'conn');
    return ok({ type: 'conn', at, cl });
  },
  connAck(body) {
    const st = status(body, 'connAck');
    if (typeof st !== 'number') return st;
    const ts = body['ts'] === undefined ? undefined : integer(body['ts']);
    if (ts === null) return fail("connAck: 'ts' must be an integer", 'connAck');
    return ok(withoutAbsent({ type: 'connAck', st, ts }));
  },
  hb: () => ok({ type: 'hb' }),
  hbAck: () => ok({ type: 'hbAck' }),
  sub(body) {
    const cn = channel(body, 'sub');
    if (typeof cn !== 'string') return cn;
    const pr = flag(body['pr'], 0);
    if (pr === null) return fail("sub: 'pr' must be 0 or 1", 'sub', { cn });
    return ok({ type: 'sub', cn, pr });
  },
  subAck(body) {
    const st = status(body, 'subAck');
    if (typeof st !== 'number') return st;
    const cn = body['cn'];
    if (typeof cn !== 'string') return fail("subAck: 'cn' must be a string", 'subAck');
    return ok({ type: 'subAck', st, cn });
  },
  unsub(body) {
    const cn = channel(body, 'unsub');
    return typeof cn === 'string' ? ok({ type: 'unsub', cn }) : cn;
  },
  unsubAck(body) {
    const st = status(body, 'unsubAck');
    if (typeof st !== 'number') return st;
    const cn = body['cn'];
    if (typeof cn !== 'string') return fail("unsubAck: 'cn' must be a string", 'unsubAck');
    return ok({ type: 'unsubAck', st, cn });
  },
  pub(body) {
    const id = packetId(body['id']);
    if (id === null) return fail("pub: 'id' must be a string or a number", 'pub');
    const cn = channel(body, 'pub', id);
    if (typeof cn !== 'string') return cn;
    const dt = data(body['dt']);
    if (dt === undefined) return fail("pub: 'dt' is required", 'pub', { cn, id });
    if (dt === null && body['dt'] !== null) return fail(`pub: 'dt' nests deeper than ${MAX_DATA_DEPTH} or holds a number out of range`, 'pub', { cn, id });
    const q = flag(body['q'], 0);
    if (q === null || typeof body['q'] === 'boolean') return fail("pub: 'q' must be 0 or 1", 'pub', { cn, id });
    const rt = flag(body['rt'], 0);
    if (rt === null) return fail("pub: 'rt' must be 0 or 1", 'pub', { cn, id });
    if (id === undefined && (q === 1 || cn.charCodeAt(0) === 36 /* $ */)) {
      return fail("pub: 'id' is required with q=1 and on control channels", 'pub', { cn });
    }
    const packet: PubPacket = { type: 'pub', cn, dt, q, rt };
    if (id !== undefined) packet.id = id;
    return ok(packet);
  },
  pubAck(body) {
    const st = status(body, 'pubAck');
    if (typeof st !== 'number') return st;
    const id = packetId(body['id']);
    if (id === null) return fail("pubAck: 'id' must be a string or a number", 'pubAck');
    return ok(withoutAbsent({ type: 'pubAck', st, id, dt: body['dt'] as Json | undefined }));
  },
  push(body) {
    const { cn, cl, id } = body;
    if (typeof cn !== 'string') return fail("push: 'cn' must be a string", 'push');
    if (typeof cl !== 'string') return fail("push: 'cl' must be a string", 'push');
    if (!('dt' in body)) return fail("push: 'dt' is required", 'push');
    if (id !== undefined && typeof id !== 'string') return fail("push: 'id' must be a string", 'push');
    const q = body['q'] === undefined ? undefined : flag(body['q'], 0);
    const rt = body['rt'] === undefined ? undefined : flag(body['rt'], 0);
    if (q === null || rt === null) return fail("push: 'q' and 'rt' must be 0 or 1", 'push');
    const packet: PushPacket = { type: 'push', cn, dt: body['dt'] as Json, cl };
    if (q !== undefined) packet.q = q;
    if (id !== undefined) packet.id = id;
    if (rt !== undefined) packet.rt = rt;
    return ok(packet);
  },
  pushAck(body) {
    const id = packetId(body['id']);
    if (id === null || id === undefined) return fail("pushAck: 'id' is required", 'pushAck');
    // Protocol 3.11 compat: the reference clients send no `st`; missing means OK.
    const st = body['st'] === undefined ? Status.OK : integer(body['st']);
    if (st === null) return fail("pushAck: 'st' must be an integer", 'pushAck');
    return ok({ type: 'pushAck', id, st });
  },
  disconn: () => ok({ type: 'disconn' }),
};

/** Decodes one packet's text (without its NUL terminator). */
export function decode(text: string): DecodeResult {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return fail('packet is not valid JSON');
  }
  if (!isBody(root)) return fail('packet must be a JSON object');
  let type: string | undefined;
  let keys = 0;
  for (const key in root) {
    type = key;
    if (++keys > 1) break;
  }
  if (keys !== 1 || type === undefined) return fail('packet must have exactly one key, its type');
  if (!isPacketType(type)) return fail(`unknown packet type '${type.slice(0, 64)}'`);
  const body = root[type];
  if (!isBody(body)) return fail(`${type}: value must be an object`, type);
  return decoders[type](body);
}

/** Encodes a packet as its wire text, without a NUL terminator; absent optional fields are left out. */
export function encode(packet: Packet): string {
  const { type, ...fields } = packet;
  return JSON.stringify({ [type]: fields });
}

/**
 * Wire text of a push whose `dt` is already JSON text: the broker serialises
 * a message's data once and reuses it for every subscriber (ARCHITECTURE rule 3).
 */
export function encodePush(cn: string, dataJson: string, cl: string, extra: '' | { id: string } | 'retained'): string {
  const head = '{"push":{"cn":' + JSON.stringify(cn) + ',"dt":' + dataJson + ',"cl":' + JSON.stringify(cl);
  if (extra === '') return head + '}}';
  if (extra === 'retained') return head + ',"rt":1}}';
  return head + ',"q":1,"id":' + JSON.stringify(extra.id) + '}}';
}
