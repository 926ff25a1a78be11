/**
 * Hand-written MQTT 3.1.1 framing for the load generator: just the packets
 * the benchmark sends, and an incremental reader that walks fixed header +
 * remaining length and skips PUBLISH bodies unless asked to keep them.
 */

/** Packet types (fixed header, high nibble). */
export const MqttType = { CONNECT: 1, CONNACK: 2, PUBLISH: 3, PUBACK: 4, SUBSCRIBE: 8, SUBACK: 9, DISCONNECT: 14 } as const;

function remainingLength(length: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 128;
    bytes.push(byte);
  } while (length > 0);
  return bytes;
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first, ...remainingLength(body.length)]), body]);
}

function utf8(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** CONNECT, clean session, keep-alive 0 (no timeout: idle sessions stay). */
export function connect(clientId: string): Buffer {
  const header = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 0]);
  return packet(0x10, Buffer.concat([header, utf8(clientId)]));
}

export function subscribe(packetId: number, topic: string, qos: 0 | 1): Buffer {
  const id = Buffer.alloc(2);
  id.writeUInt16BE(packetId, 0);
  return packet(0x82, Buffer.concat([id, utf8(topic), Buffer.from([qos])]));
}

/** PUBLISH QoS 0; for QoS 1 the packet id sits at `idOffset` (see publishQos1). */
export function publish(topic: string, payload: Buffer): Buffer {
  return packet(0x30, Buffer.concat([utf8(topic), payload]));
}

/** A QoS 1 PUBLISH template and where to write each message's packet id. */
export function publishQos1(topic: string, payload: Buffer): { frame: Buffer; idOffset: number } {
  const frame = packet(0x32, Buffer.concat([utf8(topic), Buffer.alloc(2), payload]));
  const bodyLength = 2 + Buffer.byteLength(topic) + 2 + payload.length;
  const headerLength = frame.length - bodyLength;
  return { frame, idOffset: headerLength + 2 + Buffer.byteLength(topic) };
}

export function puback(packetId: number): Buffer {
  return Buffer.from([0x40, 2, packetId >> 8, packetId & 0xff]);
}

export const DISCONNECT = Buffer.from([0xe0, 0]);

/** Packet id of a QoS 1 PUBLISH body (the bytes after the fixed header). */
export function publishPacketId(body: Buffer): number {
  const topicLength = body.readUInt16BE(0);
  return body.readUInt16BE(2 + topicLength);
}

/** Payload of a PUBLISH body. */
export function publishPayload(body: Buffer, flags: number): Buffer {
  const topicLength = body.readUInt16BE(0);
  const qos = (flags >> 1) & 3;
  return body.subarray(2 + topicLength + (qos > 0 ? 2 : 0));
}

const EMPTY = Buffer.alloc(0);

export type MqttHandler = (type: number, flags: number, body: Buffer) => void;

/**
 * Incremental MQTT reader. Counts PUBLISH packets; hands every other packet
 * (CONNACK, SUBACK, PUBACK: small) to `onPacket`, and PUBLISH packets too
 * only when `keepPublish` is set. The unfinished tail carries over chunks.
 */
export class MqttReader {
  publishes = 0;
  keepPublish = false;
  private state = 0; // 0 fixed header byte, 1 remaining length, 2 body
  private type = 0;
  private flags = 0;
  private need = 0;
  private multiplier = 1;
  private parts: Buffer[] = [];
  private keep = false;

  constructor(public onPacket: MqttHandler) {}

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.state === 0) {
        const byte = chunk[i++];
        this.type = byte >> 4;
        this.flags = byte & 15;
        this.need = 0;
        this.multiplier = 1;
        this.state = 1;
      } else if (this.state === 1) {
        const byte = chunk[i++];
        this.need += (byte & 127) * this.multiplier;
        this.multiplier *= 128;
        if ((byte & 128) === 0) {
          this.keep = this.type !== MqttType.PUBLISH || this.keepPublish;
          if (this.need === 0) this.finish(EMPTY);
          else {
            this.state = 2;
            this.parts = [];
          }
        }
      } else {
        const take = Math.min(this.need, n - i);
        if (this.keep) this.parts.push(chunk.subarray(i, i + take));
        i += take;
        this.need -= take;
        if (this.need === 0) this.finish(this.keep ? (this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts)) : EMPTY);
      }
    }
  }

  private finish(body: Buffer): void {
    this.state = 0;
    if (this.type === MqttType.PUBLISH) this.publishes++;
    if (this.keep) this.onPacket(this.type, this.flags, body);
  }
}
