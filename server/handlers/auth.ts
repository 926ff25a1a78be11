/** Handler of `auth` (protocol 5.1): auth may come any number of times before conn; the application decides. */
import type { AuthPacket } from '../../shared/packets';
import { Status, statusName } from '../../shared/status';
import type { HandlerContext } from './context';
import type { AuthResult } from '../hooks';
import type { Connection } from '../connection';
import { callHook } from './hook-call';

export async function handleAuth(ctx: HandlerContext, connection: Connection, packet: AuthPacket, text: string): Promise<void> {
  if (connection.state === 'session') {
    connection.send({ type: 'authAck', st: Status.NOT_ALLOWED, mg: 'already in a session' });
    return;
  }
  // Protocol 11.1: the packet's size bounds its data, so the text is measured, not the data re-serialised.
  if (text.length > ctx.config.MAX_AUTH_BYTES) {
    ctx.limitHit('MAX_AUTH_BYTES', `auth of ${text.length} characters from ${connection.remoteHost}`);
    connection.send({ type: 'authAck', st: Status.INVALID_PACKET, mg: `auth data over MAX_AUTH_BYTES (${ctx.config.MAX_AUTH_BYTES} bytes)` });
    return;
  }
  const failed: AuthResult = { status: Status.SERVER_ERROR, message: 'authentication failed on the server' };
  const result = await callHook(ctx, 'authentication', () => ctx.app.authenticate(packet.dt, connection), failed);
  // Protocol 11.9: an answer that comes after the connection closed changes nothing.
  if (connection.state === 'closed') {
    ctx.counters.lateHookAnswers++;
    return;
  }
  if (result?.status === Status.OK) {
    if (typeof result.clientId !== 'string' || result.clientId === '' || typeof result.token !== 'string') {
      ctx.log.error('authentication hook answered OK without a client id and a token');
      connection.send({ type: 'authAck', st: Status.SERVER_ERROR, mg: 'authentication failed on the server' });
      return;
    }
    if (result.clientId.length > ctx.config.MAX_CLIENT_ID_LENGTH) {
      ctx.limitHit('MAX_CLIENT_ID_LENGTH', `auth for a ${result.clientId.length}-character client id from ${connection.remoteHost}`);
      connection.send({ type: 'authAck', st: Status.INVALID_PACKET, mg: `client id over MAX_CLIENT_ID_LENGTH (${ctx.config.MAX_CLIENT_ID_LENGTH} characters)` });
      return;
    }
    connection.send({ type: 'authAck', st: Status.OK, at: result.token, cl: result.clientId });
    return;
  }
  const status = typeof result?.status === 'number' ? result.status : Status.SERVER_ERROR;
  // Protocol 3.2: a refused authAck carries a non-empty reason.
  connection.send({ type: 'authAck', st: status, mg: result?.message || statusName(status) });
  ctx.log.info(`auth refused (${status}) for ${connection.describe()}`);
}
