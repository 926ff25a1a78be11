/** Handler of pubs to `$` channels (protocol 6.3): a request, answered by pubAck with st, id and dt; never delivered or retained. */
import type { Json, PubPacket } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { Broker } from '../broker';
import type { Session } from '../session';
import type { ControlResult } from '../hooks';
import { OutFrame } from '../outbound';
import { callHook } from './hook-call';

/** Built-in control channels, answered before the application's handler. */
const builtIns = new Map<string, (broker: Broker, session: Session) => Json>([
  // Protocol 6.5. Built with fromEntries, which defines every name as an own
  // property: assignment to a plain object would lose a channel named `__proto__`.
  ['$mySubscriptions', (broker, session) => ({
    channels: Object.fromEntries([...broker.index.channelsOf(session.clientId) ?? []].map(([channel, persistent]) => [channel, persistent ? 'persistent' : 'temp'])),
  })],
]);

export async function handleControl(broker: Broker, session: Session, packet: PubPacket): Promise<void> {
  const builtIn = builtIns.get(packet.cn);
  if (builtIn) return answer(session, packet, Status.OK, builtIn(broker, session));
  const failed: ControlResult = { status: Status.SERVER_ERROR, data: null };
  const result = await callHook(broker, 'control channel', () => broker.app.handleControl(packet.cn, packet.dt, session), failed);
  // Protocol 11.9: an answer that comes after the session ended changes nothing.
  if (!session.inSession) {
    broker.counters.lateHookAnswers++;
    return;
  }
  answer(session, packet, typeof result?.status === 'number' ? result.status : Status.SERVER_ERROR, result?.data ?? null);
}

/** Protocol 11.5: an answer counts against the client's byte budget, so a small request cannot buy large answers without end. */
function answer(session: Session, packet: PubPacket, st: number, dt: Json): void {
  const frame = OutFrame.of({ type: 'pubAck', st, id: packet.id, dt });
  session.charge(0, frame.text.length);
  session.write(frame, 'pubAck');
}
