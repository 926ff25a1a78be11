import type { Json, PubPacket } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { Broker } from '../broker';
import type { Session } from '../session';
import type { ControlResult } from '../hooks';
import { callHook } from './hook-call';

/** Built-in control channels, answered before the application's handler. */
const builtIns: Record<string, (broker: Broker, session: Session) => Json> = {
  // JMQT 5: `{"channels": {<name>: "persistent" | "temp"}}` for the asking client.
  $mySubscriptions(broker, session) {
    const channels: Record<string, Json> = {};
    for (const [channel, persistent] of broker.index.channelsOf(session.clientId) ?? []) {
      channels[channel] = persistent ? 'persistent' : 'temp';
    }
    return { channels };
  },
};

/** JMQT 5: a pub to `$name` is a request, answered by pubAck with st, id and dt; never delivered or retained. */
export async function handleControl(broker: Broker, session: Session, packet: PubPacket): Promise<void> {
  const builtIn = Object.prototype.hasOwnProperty.call(builtIns, packet.cn) ? builtIns[packet.cn] : undefined;
  if (builtIn) {
    session.send({ type: 'pubAck', st: Status.OK, id: packet.id, dt: builtIn(broker, session) });
    return;
  }
  const failed: ControlResult = { status: Status.SERVER_ERROR, data: null };
  const result = await callHook(broker, 'control channel', () => broker.app.handleControl(packet.cn, packet.dt, session), failed);
  const status = typeof result?.status === 'number' ? result.status : Status.SERVER_ERROR;
  session.send({ type: 'pubAck', st: status, id: packet.id, dt: result?.data ?? null });
}
