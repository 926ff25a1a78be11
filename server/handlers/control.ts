/** Handler of pubs to `$` channels (protocol 6.3): a request, answered by pubAck with st, id and dt; never delivered or retained. */
import type { Json, PubPacket } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { HandlerContext } from './context';
import type { Connection } from '../connection';
import type { ControlResult } from '../hooks';
import { OutFrame } from '../outbound';
import { callHook } from './hook-call';

/** Built-in control channels, answered before the application's handler. */
const builtIns = new Map<string, (ctx: HandlerContext, connection: Connection) => Json>([
  // Protocol 6.5. Built with fromEntries, which defines every name as an own
  // property: assignment to a plain object would lose a channel named `__proto__`.
  ['$mySubscriptions', (ctx, connection) => ({
    channels: Object.fromEntries([...ctx.channelsOf(connection.clientId) ?? []].map(([channel, persistent]) => [channel, persistent ? 'persistent' : 'temp'])),
  })],
]);

export async function handleControl(ctx: HandlerContext, connection: Connection, packet: PubPacket): Promise<void> {
  const builtIn = builtIns.get(packet.cn);
  if (builtIn) return answer(connection, packet, Status.OK, builtIn(ctx, connection));
  const failed: ControlResult = { status: Status.SERVER_ERROR, data: null };
  const result = await callHook(ctx, 'control channel', () => ctx.app.handleControl(packet.cn, packet.dt, connection), failed);
  // Protocol 11.9: an answer that comes after the session ended changes nothing.
  if (!connection.inSession) {
    ctx.counters.lateHookAnswers++;
    return;
  }
  answer(connection, packet, typeof result?.status === 'number' ? result.status : Status.SERVER_ERROR, result?.data ?? null);
}

/** Protocol 11.5: an answer counts against the client's byte budget, so a small request cannot buy large answers without end. */
function answer(connection: Connection, packet: PubPacket, st: number, dt: Json): void {
  const frame = OutFrame.of({ type: 'pubAck', st, id: packet.id, dt });
  connection.charge(0, frame.text.length);
  connection.write(frame, 'pubAck');
}
