/**
 * Test helpers for the admin API: a broker whose log lines the test can
 * read (the audit lines), HTTP requests of any method (optionally starting
 * with a LOCAL PROXY v2 header, for cluster nodes that require one), and the
 * live events WebSocket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import type { Config } from '../config';
import { createLogger, type Logger } from '../log';
import { sampleApplication } from '../sample-app';
import { startServer } from '../server';
import { TokenSigner } from '../tokens';
import { TEST_SECRET, type TestBroker } from './harness';

/** A PROXY protocol v2 LOCAL header (no address: the node takes the socket's), as HAProxy's health checks send. */
const LOCAL_PROXY_HEADER = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x20, 0x00, 0x00, 0x00]);

export interface LoggedBroker extends TestBroker {
  /** Every line logged at INF and above, as written. */
  readonly lines: string[];
}

/** A broker like startTestBroker's (sample application, free ports, fresh SQLite), logging into `lines`. */
export async function startLoggedBroker(config: Partial<Config> = {}): Promise<LoggedBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'jmqt-admin-'));
  const lines: string[] = [];
  const quiet = createLogger('ERR', '');
  const log: Logger = {
    debug: () => undefined,
    info: (message) => { lines.push(`INF ${message}`); },
    warn: (message) => { lines.push(`WRN ${message}`); },
    error: (message) => { lines.push(`ERR ${message}`); quiet.error(message); },
    close: async () => undefined,
  };
  const tokens = new TokenSigner(TEST_SECRET, 3600);
  const server = await startServer({
    config: { SOCKET_PORT: 0, WEBSOCKET_PORT: 0, BIND_ADDRESS: '127.0.0.1', SQLITE_PATH: join(dir, 'jmqt.db'), SQLITE_SYNC: 'normal', ...config },
    application: sampleApplication(tokens, log),
    logger: log,
  });
  return Object.assign(server, {
    dir, tokens, lines,
    queuedFor: async (clientId: string) => (await server.broker.storage.queuedFor(clientId)).length,
    destroy: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

export interface ApiAnswer {
  status: number;
  body: any;
}

export interface ApiOptions {
  /** Sent as JSON (Content-Type: application/json) unless `raw` is given. */
  body?: unknown;
  raw?: string;
  token?: string;
  headers?: Record<string, string>;
  /** Start the connection with a LOCAL PROXY v2 header (a node with PROXY_PROTOCOL = 1). */
  proxy?: boolean;
}

/** One HTTP request to 127.0.0.1:`port`; the body parsed when it is JSON. */
export function api(port: number, method: string, path: string, options: ApiOptions = {}): Promise<ApiAnswer> {
  const text = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const headers: Record<string, string> = { ...options.headers };
  if (text !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(text));
  }
  if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
  return new Promise((resolve, reject) => {
    const createConnection = options.proxy
      ? () => {
        const socket = connect({ host: '127.0.0.1', port });
        socket.write(LOCAL_PROXY_HEADER);
        return socket;
      }
      : undefined;
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, timeout: 10_000, createConnection }, (response) => {
      let answer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { answer += chunk; });
      response.on('end', () => {
        let body: unknown = answer;
        if ((response.headers['content-type'] ?? '').includes('json')) {
          try { body = JSON.parse(answer); } catch { /* keep the text */ }
        }
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.on('error', reject);
    req.end(text);
  });
}

/** The live events socket: every message received, and the close code once closed. */
export class LiveEvents {
  readonly messages: any[] = [];
  closeCode: number | null = null;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.messages.push(JSON.parse(data.toString()));
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => undefined);
  }

  /** Opens `path` on `port`; resolves once open, rejects with the HTTP status of a refused upgrade. */
  static open(port: number, path = '/api/events/live', headers: Record<string, string> = {}): Promise<LiveEvents> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new LiveEvents(ws)));
      ws.once('unexpected-response', (_request, response) => reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { status: response.statusCode })));
      ws.once('error', reject);
    });
  }

  events(): any[] {
    return this.messages.filter((message) => message.event).map((message) => message.event);
  }

  /** Waits until `check` holds over what was received; fails after `ms`. */
  async until(check: (live: LiveEvents) => boolean, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!check(this)) {
      if (Date.now() > deadline) throw new Error(`live events: ${what} not seen within ${ms} ms; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  close(): void {
    this.ws.close();
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** A JMQT session over a raw WebSocket (auth with the sample application, then conn), to see how it is closed. */
export async function webSocketSession(port: number, clientId: string): Promise<{ ws: WebSocket; received: any[]; closed: Promise<[number, string]> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const received: any[] = [];
  ws.on('message', (data) => received.push(JSON.parse(data.toString())));
  ws.on('error', () => undefined);
  const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code, reason) => resolve([code, reason.toString()])));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  const next = async (type: string) => {
    const until = Date.now() + 5000;
    while (!received.some((packet) => type in packet)) {
      if (Date.now() > until) throw new Error(`no ${type} for ${clientId}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return received.find((packet) => type in packet)[type];
  };
  ws.send(JSON.stringify({ auth: { dt: { client_name: clientId } } }));
  const authAck = await next('authAck');
  ws.send(JSON.stringify({ conn: { cl: clientId, at: authAck.at } }));
  const connAck = await next('connAck');
  if (connAck.st !== 1) throw new Error(`conn of ${clientId} answered ${connAck.st}`);
  return { ws, received, closed };
}
