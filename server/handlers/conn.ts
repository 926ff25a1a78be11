/** Handler of `conn` (protocol 5.2): validate → take over → `#clientId` → connAck → queued QoS 1 → retained. */
import type { ConnPacket } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { HandlerContext } from './context';
import type { Connection } from '../connection';
import { asStatus, callHook } from './hook-call';
import { quote } from '../log-text';

export async function handleConn(ctx: HandlerContext, connection: Connection, packet: ConnPacket): Promise<void> {
  if (connection.state === 'session') {
    connection.send({ type: 'connAck', st: Status.NOT_ALLOWED });
    return;
  }
  if (packet.cl.length > ctx.config.MAX_CLIENT_ID_LENGTH) {
    ctx.limitHit('MAX_CLIENT_ID_LENGTH', `conn with a ${packet.cl.length}-character client id from ${connection.remoteHost}`);
    connection.send({ type: 'connAck', st: Status.INVALID_PACKET });
    return;
  }
  if (packet.at.length > ctx.config.MAX_AUTH_BYTES) {
    ctx.limitHit('MAX_AUTH_BYTES', `conn with a ${packet.at.length}-character token from ${connection.remoteHost}`);
    connection.send({ type: 'connAck', st: Status.INVALID_PACKET });
    return;
  }
  const status = asStatus(await callHook(ctx, 'connection', () => ctx.app.validateConnection(packet.cl, packet.at, connection), Status.SERVER_ERROR));
  // Protocol 11.9: an answer that comes after the connection closed changes nothing.
  if (connection.state === 'closed') {
    ctx.counters.lateHookAnswers++;
    return;
  }
  if (status !== Status.OK) {
    ctx.log.info(`conn refused (${status}) for client ${quote(packet.cl)} from ${connection.remoteHost} over ${connection.protocol}`);
    connection.send({ type: 'connAck', st: status });
    return;
  }
  try {
    await ctx.openSession(connection, packet.cl);
  } catch (error) {
    ctx.log.error(`opening the session of ${connection.describe()}: ${(error as Error).message}`);
    connection.send({ type: 'connAck', st: Status.SERVER_ERROR });
    connection.close('session could not start');
    return;
  }
  if (!connection.inSession) return;
  connection.send({ type: 'connAck', st: Status.OK, ts: ctx.config.TIMEOUT_SECONDS });
  try {
    await ctx.replayer.replay(connection);
  } catch (error) {
    ctx.log.error(`replaying stored messages to ${connection.describe()}: ${(error as Error).message}`);
  }
}
