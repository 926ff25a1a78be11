/**
 * WebSocket frames written by hand on a raw socket after a hand-made
 * handshake: control frames (ping, pong, close with valid and invalid codes),
 * fragmented messages (valid ones, with pings in between, UTF-8 split across
 * fragments) and invalid frames (oversized or fragmented control frames,
 * reserved opcodes and bits, unmasked frames, orphan continuations, lying
 * lengths, truncated frames). Valid sequences must be answered; invalid ones
 * must close the connection and nothing else.
 */
import { endedWithin, openSession, portOf, sleep, workers, type AttackContext } from '../attack';
import { Link, type Transport } from '../link';
import { validText } from '../packets';
import type { Random } from '../random';
import { Opcode, closePayload, frame } from '../ws-frames';

const NAME = 'ws-frames';
const MAX_CONNECTIONS_PER_WORKER = 5000;
const TRANSPORTS: Transport[] = ['ws', 'wss', 'ws'];

/** One scenario: writes its frames; answers true when it leaves the connection unusable (closing or invalid). */
type Scenario = (link: Link, random: Random) => Promise<boolean> | boolean;

const hb = Buffer.from('{"hb":{}}');

function fragments(random: Random, payload: Buffer, count: number): Buffer[] {
  const cuts = new Set<number>();
  while (cuts.size < Math.min(count - 1, payload.length - 1)) cuts.add(random.int(1, payload.length - 1));
  const points = [0, ...[...cuts].sort((a, b) => a - b), payload.length];
  return points.slice(1).map((end, index) => payload.subarray(points[index]!, end));
}

function sendFragmented(link: Link, random: Random, payload: Buffer, opcode: number, pings: boolean): void {
  const parts = fragments(random, payload, random.int(2, 6));
  parts.forEach((part, index) => {
    link.sendFrame({ opcode: index === 0 ? opcode : Opcode.continuation, payload: part, fin: index === parts.length - 1 });
    if (pings && index < parts.length - 1) link.sendFrame({ opcode: random.chance(0.5) ? Opcode.ping : Opcode.pong, payload: random.bytes(random.int(0, 125)) });
  });
}

const valid: Record<string, Scenario> = {
  'ping': (link, random) => !link.sendFrame({ opcode: Opcode.ping, payload: random.bytes(random.int(0, 125)) }),
  'pong-unsolicited': (link, random) => !link.sendFrame({ opcode: Opcode.pong, payload: random.bytes(random.int(0, 125)) }),
  'fragmented-text': (link, random) => { sendFragmented(link, random, Buffer.from(validText(random)), Opcode.text, false); return false; },
  'fragmented-with-control': (link, random) => { sendFragmented(link, random, hb, Opcode.text, true); return false; },
  'fragmented-binary': (link, random) => { sendFragmented(link, random, Buffer.from(validText(random)), Opcode.binary, false); return false; },
  'utf8-split-across-fragments': (link) => {
    const text = Buffer.from('{"pub":{"cn":"fuzz","dt":"é€😀","id":"u"}}');
    const at = text.indexOf(0xe2) + 1; // inside the three bytes of €
    link.sendFrame({ opcode: Opcode.text, payload: text.subarray(0, at), fin: false });
    link.sendFrame({ opcode: Opcode.continuation, payload: text.subarray(at) });
    return false;
  },
  'many-tiny-fragments': (link) => {
    const text = Buffer.from(`{"hb":{${' '.repeat(500)}}}`);
    for (let i = 0; i < text.length; i++) link.sendFrame({ opcode: i === 0 ? Opcode.text : Opcode.continuation, payload: text.subarray(i, i + 1), fin: i === text.length - 1 });
    return false;
  },
  'empty-text': (link) => !link.sendFrame({ opcode: Opcode.text }),
  'non-minimal-length': (link) => !link.sendFrame({ opcode: Opcode.text, payload: hb, lengthForm: 64 }),
  'byte-by-byte': async (link) => {
    for (const byte of maskedTextFrame(hb)) {
      link.write(Buffer.from([byte]));
      await sleep(1);
    }
    return false;
  },
};

/** A masked text frame as bytes, for the scenarios that write it in pieces. */
function maskedTextFrame(payload: Buffer): Buffer {
  return frame({ opcode: Opcode.text, payload, mask: Buffer.from([1, 2, 3, 4]) });
}

const closing: Record<string, Scenario> = {
  'close-1000': (link) => { link.sendFrame({ opcode: Opcode.close, payload: closePayload(1000, 'bye') }); return true; },
  'close-no-payload': (link) => { link.sendFrame({ opcode: Opcode.close }); return true; },
  'close-invalid-code': (link, random) => { link.sendFrame({ opcode: Opcode.close, payload: closePayload(random.pick([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])) }); return true; },
  'close-one-byte': (link) => { link.sendFrame({ opcode: Opcode.close, payload: Buffer.from([3]) }); return true; },
  'close-reason-not-utf8': (link) => { link.sendFrame({ opcode: Opcode.close, payload: closePayload(1000, Buffer.from([0xc0, 0xaf, 0xff])) }); return true; },
  'ping-over-125': (link, random) => { link.sendFrame({ opcode: Opcode.ping, payload: random.bytes(random.int(126, 300)) }); return true; },
  'fragmented-ping': (link) => { link.sendFrame({ opcode: Opcode.ping, payload: Buffer.from('x'), fin: false }); return true; },
  'reserved-opcode': (link, random) => { link.sendFrame({ opcode: random.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), payload: hb }); return true; },
  'rsv-bits': (link, random) => { link.sendFrame({ opcode: Opcode.text, payload: hb, rsv: random.int(1, 7) }); return true; },
  'unmasked': (link) => { link.sendFrame({ opcode: Opcode.text, payload: hb, mask: null }); return true; },
  'orphan-continuation': (link) => { link.sendFrame({ opcode: Opcode.continuation, payload: hb }); return true; },
  'text-inside-fragmented': (link) => {
    link.sendFrame({ opcode: Opcode.text, payload: hb.subarray(0, 4), fin: false });
    link.sendFrame({ opcode: Opcode.text, payload: hb });
    return true;
  },
  'length-msb-set': (link) => { link.sendFrame({ opcode: Opcode.text, payload: hb, declaredLength: (1n << 63n) + 9n }); return true; },
  'length-over-max-payload': (link, random) => { link.sendFrame({ opcode: Opcode.binary, payload: hb, declaredLength: random.pick([1024 * 1024 + 1, 2 ** 32, 2 ** 40]) }); return true; },
  'fragments-over-max-payload': (link) => {
    const part = Buffer.alloc(300 * 1024, 0x20);
    for (let i = 0; i < 4; i++) link.sendFrame({ opcode: i === 0 ? Opcode.text : Opcode.continuation, payload: part, fin: false });
    return true;
  },
  'invalid-utf8-text': (link) => { link.sendFrame({ opcode: Opcode.text, payload: Buffer.from([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]) }); return true; },
  'truncated-frame': (link) => {
    // A header promising 100 bytes, then 10: the rest never comes.
    link.write(maskedTextFrame(Buffer.alloc(100, 0x20)).subarray(0, 16));
    return true;
  },
};

export async function wsFrames(context: AttackContext): Promise<void> {
  const random = context.random;
  const validNames = Object.keys(valid);
  const closingNames = Object.keys(closing);
  let sessions = 0;
  await workers(context, NAME, TRANSPORTS.length, MAX_CONNECTIONS_PER_WORKER, async (worker) => {
    const transport = TRANSPORTS[worker]!;
    const link = await Link.open({ transport, port: portOf(context.ports, transport), localAddress: random.pick(context.addresses), random });
    link.onPacket(() => context.seen.add(NAME, 'answers'));
    if (random.chance(0.5)) await openSession(link, `fz-ws-${worker}-${++sessions % 20}`);
    for (let round = random.int(1, 30); round > 0 && !link.closed && context.running(); round--) {
      const name = random.pick(validNames);
      context.sent.add(NAME, name);
      await valid[name]!(link, random);
      if (round % 5 === 0) await sleep(random.int(0, 10));
    }
    if (link.closed) return;
    if (random.chance(0.8)) {
      const name = random.pick(closingNames);
      context.sent.add(NAME, name);
      await closing[name]!(link, random);
      const ended = await endedWithin(link, 3000);
      context.seen.add(NAME, `${name} → ${ended ? `closed ${link.closeCode ?? 'without close frame'}` : 'still open after 3 s'}`);
    }
    link.destroy();
  });
}
