/**
 * Amplification from clients that do not read their socket: small requests
 * whose answers are large, so the answers pile up in the broker.
 *  - `$mySubscriptions` requests after subscribing to ~1000 channels of
 *    ~500 characters: each ~60-byte request answers ~500 KB;
 *  - auth with a long client_name (before any session): the authAck carries
 *    the name twice (client id, and inside the token, base64);
 *  - QoS 1 pubs and control requests with big ids, echoed in the pubAck and
 *    remembered for QOS1_DEDUPE_SECONDS.
 * Each stops reading right after its session is open (or at once).
 */
import { openSession, portOf, sleep, workers, type AttackContext } from '../attack';
import { Link, TRANSPORTS } from '../link';

const NAME = 'amplification';
/** Channels each subscriber asks for: MAX_SUBSCRIPTIONS_PER_CLIENT (1000), a few of them refused. */
const CHANNELS_PER_CLIENT = 1000;
/** Characters per channel name, under MAX_CHANNEL_LENGTH (512). */
const CHANNEL_LENGTH = 500;
/** `$mySubscriptions` requests per second per connection. */
const LIST_REQUESTS_PER_SECOND = 10;
/** Requests per connection, at most (bounded loop). */
const MAX_REQUESTS_PER_CONNECTION = 3000;
/** Long auths per second per connection, and the client_name sizes, characters. */
const AUTHS_PER_SECOND = 1;
const CLIENT_NAME_CHARS: [number, number] = [100_000, 400_000];
/** Big-id pubs per second per connection, and the id sizes, characters. */
const BIG_ID_PUBS_PER_SECOND = 2;
const ID_CHARS: [number, number] = [10_000, 200_000];
const MAX_CONNECTIONS_PER_WORKER = 200;

export async function amplification(context: AttackContext): Promise<void> {
  await Promise.all([listRequests(context), longAuths(context), bigIds(context)]);
}

/** One per transport: subscribe to many long channels, then ask for the list again and again. */
function listRequests(context: AttackContext): Promise<void> {
  const random = context.random;
  return workers(context, NAME, TRANSPORTS.length, MAX_CONNECTIONS_PER_WORKER, async (worker) => {
    const transport = TRANSPORTS[worker]!;
    const link = await Link.open({ transport, port: portOf(context.ports, transport), localAddress: context.addresses[worker % context.addresses.length]!, random });
    await openSession(link, `amp-list-${transport}`);
    link.stopReading();
    const prefix = `amp/${transport}/`;
    for (let i = 0; i < CHANNELS_PER_CLIENT && !link.closed; i++) {
      const channel = (prefix + i + '/').padEnd(CHANNEL_LENGTH, 'c');
      link.sendText(`{"sub":{"cn":${JSON.stringify(channel)},"pr":0}}`);
      if (i % 100 === 99) await sleep(10);
    }
    context.sent.add(NAME, 'long-channel-subs', CHANNELS_PER_CLIENT);
    for (let n = 0; n < MAX_REQUESTS_PER_CONNECTION && !link.closed && context.running(); n++) {
      link.sendText(`{"pub":{"cn":"$mySubscriptions","dt":{},"id":"${n}"}}`);
      context.sent.add(NAME, '$mySubscriptions');
      await sleep(1000 / LIST_REQUESTS_PER_SECOND);
    }
    const closed = link.closed;
    link.destroy();
    context.seen.add(NAME, closed ? 'list client closed by broker' : 'list client ended by fuzzer');
  });
}

/** Before a session: auth after auth with a long client_name, never reading the authAcks. */
function longAuths(context: AttackContext): Promise<void> {
  const random = context.random;
  return workers(context, NAME, 2, MAX_CONNECTIONS_PER_WORKER, async (worker) => {
    const transport = worker === 0 ? 'tcp' : 'ws';
    const link = await Link.open({ transport, port: portOf(context.ports, transport), localAddress: random.pick(context.addresses), random });
    link.stopReading();
    for (let n = 0; n < MAX_REQUESTS_PER_CONNECTION && !link.closed && context.running(); n++) {
      const name = 'amp-' + random.word(8) + 'n'.repeat(random.int(...CLIENT_NAME_CHARS));
      link.sendText(`{"auth":{"dt":{"client_name":"${name}"}}}`);
      context.sent.add(NAME, 'long-client-name-auth');
      if (random.chance(0.2)) {
        link.sendText(`{"conn":{"at":"x","cl":"${name}"}}`);
        context.sent.add(NAME, 'long-client-id-conn');
      }
      await sleep(1000 / AUTHS_PER_SECOND);
    }
    const closed = link.closed;
    link.destroy();
    context.seen.add(NAME, closed ? 'auth client closed by broker' : 'auth client ended by fuzzer');
  });
}

/** In a session: QoS 1 pubs and control requests whose ids are long, never reading the pubAcks. */
function bigIds(context: AttackContext): Promise<void> {
  const random = context.random;
  return workers(context, NAME, 2, MAX_CONNECTIONS_PER_WORKER, async (worker) => {
    const transport = worker === 0 ? 'tls' : 'wss';
    const link = await Link.open({ transport, port: portOf(context.ports, transport), localAddress: random.pick(context.addresses), random });
    await openSession(link, `amp-ids-${transport}`);
    link.stopReading();
    for (let n = 0; n < MAX_REQUESTS_PER_CONNECTION && !link.closed && context.running(); n++) {
      const id = `${n}-` + random.word(16).repeat(Math.ceil(random.int(...ID_CHARS) / 16));
      if (random.chance(0.7)) {
        link.sendText(`{"pub":{"cn":"amp/ids","dt":${n},"q":1,"id":"${id}"}}`);
        context.sent.add(NAME, 'big-id-qos1-pub');
      } else {
        link.sendText(`{"pub":{"cn":"$mySubscriptions","dt":null,"id":"${id}"}}`);
        context.sent.add(NAME, 'big-id-control');
      }
      await sleep(1000 / BIG_ID_PUBS_PER_SECOND);
    }
    const closed = link.closed;
    link.destroy();
    context.seen.add(NAME, closed ? 'big-id client closed by broker' : 'big-id client ended by fuzzer');
  });
}
