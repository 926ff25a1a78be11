/**
 * Where and as whom a `jmqt` command connects: the flags every command
 * shares (-h -p --tls --ws --insecure --ca --auth -u -P), the SDK client
 * over the transport they name, and auth + conn.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DefaultPorts } from '../../shared/keys';
import { JmqtClient, Status, statusName, type Json, type Transport } from '../../shared/client/index';
import { NodeSocketTransport, NodeWsTransport } from '../../shared/client/node/index';
import { CliError, ExitCode, fromSdkError, usageError } from './errors';
import { intFlag, jsonFlag } from './flags';

export const connectionOptions = {
  host: { type: 'string', short: 'h', default: '127.0.0.1' },
  port: { type: 'string', short: 'p' },
  tls: { type: 'boolean', default: false },
  ws: { type: 'boolean', default: false },
  insecure: { type: 'boolean', default: false },
  ca: { type: 'string' },
  auth: { type: 'string' },
  user: { type: 'string', short: 'u' },
  password: { type: 'string', short: 'P' },
} as const;

export const connectionHelp = `connection:
  -h, --host HOST        broker address (default 127.0.0.1)
  -p, --port PORT        default 8010; 8011 with --ws, 8012 with --tls, 8013 with both
      --tls              TLS (the broker's ENABLE_SSL ports)
      --ws               WebSocket instead of the raw TCP socket
      --insecure         accept any broker certificate (a self-signed one)
      --ca FILE          trust this PEM certificate (or CA) for the broker's
  -u, --user NAME        auth data {"client_name": NAME} (default: jmqt-<random>)
  -P, --password PASS    with -u: {"client_name": NAME, "password": PASS} (AUTH_MODE = password)
      --auth JSON        auth data as it is, e.g. '{"token": "<JWT>"}' (AUTH_MODE = jwt)`;

export interface ConnectionValues {
  host: string;
  port?: string;
  tls: boolean;
  ws: boolean;
  insecure: boolean;
  ca?: string;
  auth?: string;
  user?: string;
  password?: string;
}

export interface Target {
  host: string;
  port: number;
  tls: boolean;
  ws: boolean;
  /** TLS options: the --ca certificate, --insecure. */
  secure: { rejectUnauthorized: boolean; ca?: Buffer };
  /** e.g. `tls://127.0.0.1:8012`, `ws://127.0.0.1:8011/`. */
  url: string;
}

export function targetFrom(values: ConnectionValues): Target {
  const defaultPort = values.ws
    ? (values.tls ? DefaultPorts.sslWebSocket : DefaultPorts.webSocket)
    : (values.tls ? DefaultPorts.sslSocket : DefaultPorts.socket);
  const port = values.port === undefined ? defaultPort : intFlag('-p, --port', values.port, 1, 65535);
  if ((values.insecure || values.ca !== undefined) && !values.tls) throw usageError(`${values.insecure ? '--insecure' : '--ca'} needs --tls`);
  let ca: Buffer | undefined;
  if (values.ca !== undefined) {
    try {
      ca = readFileSync(values.ca);
    } catch (error) {
      throw usageError(`--ca: cannot read ${values.ca}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  const host = values.host;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const scheme = values.ws ? (values.tls ? 'wss' : 'ws') : (values.tls ? 'tls' : 'tcp');
  return {
    host, port, tls: values.tls, ws: values.ws,
    secure: { rejectUnauthorized: !values.insecure, ...(ca ? { ca } : {}) },
    url: `${scheme}://${shownHost}:${port}${values.ws ? '/' : ''}`,
  };
}

export function createTransport(target: Target): Transport {
  if (target.ws) return new NodeWsTransport(target.url, target.tls ? target.secure : {});
  return new NodeSocketTransport({ host: target.host, port: target.port, tls: target.tls ? target.secure : false });
}

/**
 * The auth data the flags give. For several clients (bench), `%i` in -u or
 * in --auth becomes the client's number; a -u without it gets `-%i` added, so
 * that the clients do not take each other's sessions over.
 */
export function authDataFrom(values: ConnectionValues, index?: number): Json {
  if (values.auth !== undefined && values.user !== undefined) throw usageError('--auth and -u, --user: give one of them');
  if (values.password !== undefined && values.user === undefined) throw usageError('-P, --password needs -u, --user');
  const number = (text: string) => (index === undefined ? text : text.replaceAll('%i', String(index)));
  if (values.auth !== undefined) return jsonFlag('--auth', number(values.auth)) as Json;
  let name = values.user ?? `jmqt-${randomBytes(4).toString('hex')}`;
  if (index !== undefined && !name.includes('%i')) name += '-%i';
  name = number(name);
  return values.password === undefined ? { client_name: name } : { client_name: name, password: values.password };
}

export function createClient(target: Target, requestTimeoutMs: number): JmqtClient {
  return new JmqtClient(createTransport(target), { requestTimeoutMs, connectTimeoutMs: requestTimeoutMs });
}

/** auth, then conn with the token it gives; answers the client id. Refusals are CliErrors (exit 1). */
export async function openSession(client: JmqtClient, target: Target, data: Json): Promise<string> {
  let auth;
  try {
    auth = await client.auth(data);
  } catch (error) {
    throw fromSdkError(error, `cannot connect to ${target.url}`);
  }
  if (auth.status !== Status.OK || !auth.clientId || auth.token === undefined) {
    throw new CliError(`auth refused: ${statusName(auth.status)}${auth.message ? `: ${auth.message}` : ''}`, ExitCode.REFUSED);
  }
  let conn;
  try {
    conn = await client.conn(auth.clientId, auth.token);
  } catch (error) {
    throw fromSdkError(error, 'conn');
  }
  if (conn.status !== Status.OK) throw new CliError(`conn refused: ${statusName(conn.status)}`, ExitCode.REFUSED);
  return auth.clientId;
}

/** Subscribes `client` to `channel`; a refusal or a failure is a CliError naming the channel. */
export async function subscribeOrFail(client: JmqtClient, channel: string, persistent: boolean): Promise<void> {
  let answer;
  try {
    answer = await client.sub(channel, persistent);
  } catch (error) {
    throw fromSdkError(error, `sub ${channel}`);
  }
  if (answer.status !== Status.OK) throw new CliError(`sub ${channel} refused: ${statusName(answer.status)}`, ExitCode.REFUSED);
}
