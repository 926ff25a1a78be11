/**
 * The 15 JMQT 1.0 packet types (protocol 3) as one
 * discriminated union. Fields keep their short wire names so that decoding
 * and encoding never rename anything on the hot path.
 */

/** Any JSON value, as carried in `dt`. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export type Flag = 0 | 1;
/** JMQT 1.0 `id`: a string in the specification; a number is tolerated and echoed as received. */
export type PacketId = string | number;

export interface AuthPacket { type: 'auth'; dt: Json }
export interface AuthAckPacket { type: 'authAck'; st: number; at?: string; cl?: string; mg?: string }
export interface ConnPacket { type: 'conn'; at: string; cl: string }
export interface ConnAckPacket { type: 'connAck'; st: number; ts?: number }
export interface HbPacket { type: 'hb' }
export interface HbAckPacket { type: 'hbAck' }
export interface SubPacket { type: 'sub'; cn: string; pr: Flag }
export interface SubAckPacket { type: 'subAck'; st: number; cn: string }
export interface UnsubPacket { type: 'unsub'; cn: string }
export interface UnsubAckPacket { type: 'unsubAck'; st: number; cn: string }
export interface PubPacket { type: 'pub'; cn: string; dt: Json; q: Flag; id?: PacketId; rt: Flag }
export interface PubAckPacket { type: 'pubAck'; st: number; id?: PacketId; dt?: Json }
export interface PushPacket { type: 'push'; cn: string; dt: Json; cl: string; q?: Flag; id?: string; rt?: Flag }
export interface PushAckPacket { type: 'pushAck'; id: PacketId; st: number }
export interface DisconnPacket { type: 'disconn' }

export type Packet =
  | AuthPacket | AuthAckPacket | ConnPacket | ConnAckPacket | HbPacket | HbAckPacket
  | SubPacket | SubAckPacket | UnsubPacket | UnsubAckPacket | PubPacket | PubAckPacket
  | PushPacket | PushAckPacket | DisconnPacket;

export type PacketType = Packet['type'];

/** Who sends each type: `C` client to server, `S` server to client. */
export const PacketTypes = {
  auth: { from: 'C', ack: 'authAck' },
  authAck: { from: 'S', ack: null },
  conn: { from: 'C', ack: 'connAck' },
  connAck: { from: 'S', ack: null },
  hb: { from: 'C', ack: null },
  hbAck: { from: 'S', ack: null },
  sub: { from: 'C', ack: 'subAck' },
  subAck: { from: 'S', ack: null },
  unsub: { from: 'C', ack: 'unsubAck' },
  unsubAck: { from: 'S', ack: null },
  pub: { from: 'C', ack: 'pubAck' },
  pubAck: { from: 'S', ack: null },
  push: { from: 'S', ack: null },
  pushAck: { from: 'C', ack: null },
  disconn: { from: 'C', ack: null },
} as const satisfies Record<PacketType, { from: 'C' | 'S'; ack: PacketType | null }>;

export type ClientPacket = Extract<Packet, { type: 'auth' | 'conn' | 'hb' | 'sub' | 'unsub' | 'pub' | 'pushAck' | 'disconn' }>;
export type ServerPacket = Exclude<Packet, ClientPacket>;

export function isPacketType(name: string): name is PacketType {
  return Object.prototype.hasOwnProperty.call(PacketTypes, name);
}
