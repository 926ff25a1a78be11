/**
 * The original sample application (protocol 9), which
 * `npm run server` runs: auth by `client_name`, presence on `update`.
 */
import type { Json } from '../shared/packets';
import { Status } from '../shared/status';
import type { Application, Peer } from './hooks';
import type { ServerApi } from './server-api';
import type { TokenSigner } from './tokens';
import type { Logger } from './log';

/** Reserved for the server: clients may neither subscribe, unsubscribe nor publish here. */
export const PRESENCE_CHANNEL = 'update';

export function sampleApplication(tokens: TokenSigner, log: Logger): Partial<Application> {
  let server: ServerApi | null = null;
  const announce = (status: 'online' | 'offline', clientId: string) => {
    server?.forcePublish(PRESENCE_CHANNEL, { [status]: clientId }).catch((error: Error) => {
      log.error(`sample app: publishing ${status} of ${clientId} failed: ${error.message}`);
    });
  };
  const serverOnly = (channel: string) => (channel === PRESENCE_CHANNEL ? Status.NOT_ALLOWED : Status.OK);

  return {
    attach(api) {
      server = api;
    },
    authenticate(data: Json) {
      const name = typeof data === 'object' && data !== null && !Array.isArray(data) ? data['client_name'] : undefined;
      if (typeof name !== 'string' || name.trim() === '') {
        return { status: Status.INVALID_PACKET, message: "auth data needs a non-empty 'client_name'" };
      }
      const clientId = name.trim();
      return { status: Status.OK, clientId, token: tokens.issue(clientId) };
    },
    async validateConnection(clientId: string, token: string) {
      if (!tokens.verify(token, clientId)) return Status.INVALID_TOKEN;
      await server?.forceSubscribe(clientId, PRESENCE_CHANNEL, true);
      announce('online', clientId);
      return Status.OK;
    },
    validateSubscription: (channel: string) => serverOnly(channel),
    validateUnsubscription: (channel: string) => serverOnly(channel),
    validatePublish: (channel: string) => serverOnly(channel),
    // Protocol 9.2: presence is announced on every session end; `disconn` ends one too.
    onConnectionClose: (peer: Peer) => announce('offline', peer.clientId),
  };
}
