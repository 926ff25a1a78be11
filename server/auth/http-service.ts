/**
 * AUTH_MODE = http (protocol 13.5): every `auth` is POSTed to AUTH_HTTP_URL as
 * `{"authData": …, "remoteHost": …, "protocol": …}`. A 200 answer
 * `{"clientId": "…"}` (optionally `"read"`/`"write"` pattern arrays,
 * protocol 13.7) lets the client in; `{"allow": false, "message": "…"}` or a
 * 4xx status refuses it with 7 and that message; no answer within
 * AUTH_HTTP_TIMEOUT_MS, an unreachable service, a 5xx status or an answer
 * that is no answer give 5. Connections to the service are kept alive and
 * reused; at most AUTH_MAX_PENDING calls are in flight; at most
 * MAX_ANSWER_BYTES of an answer are read.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Json } from '../../shared/packets';
import { Status } from '../../shared/status';
import type { Application, AuthResult, Peer } from '../hooks';
import type { Logger } from '../log';
import { quote } from '../log-text';
import { parseGrants, type SessionScopes } from './grants';
import type { PendingBound } from './pending';
import type { SessionTokens } from './session-tokens';

/** Largest answer read from the service, bytes; a longer one is a failed call. */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** Longest message of the service passed on to a client, characters. */
const MAX_MESSAGE_LENGTH = 200;

export class CallError extends Error {
  constructor(readonly kind: 'timeout' | 'unreachable' | 'too large', message: string) {
    super(message);
  }
}

/** POSTs JSON to one URL over kept-alive connections, with a deadline and a bound on the answer. */
export class JsonPoster {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;

  constructor(private readonly url: URL, private readonly timeoutMs: number, maxSockets: number) {
    const secure = url.protocol === 'https:';
    this.agent = secure ? new HttpsAgent({ keepAlive: true, maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets });
    this.send = secure ? httpsRequest : httpRequest;
  }

  /** Resolves with status and body; rejects with a CallError. */
  async post(body: string): Promise<{ status: number; body: string }> {
    const deadline = Date.now() + this.timeoutMs;
    try {
      return await this.attempt(body, deadline);
    } catch (error) {
      // A kept-alive socket the service closed just as it was reused: once more, on a new one.
      if ((error as { retry?: boolean }).retry && Date.now() < deadline) return this.attempt(body, deadline);
      throw error;
    }
  }

  private attempt(body: string, deadline: number): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | null, answer?: { status: number; body: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) {
          request.destroy();
          reject(error);
        } else resolve(answer!);
      };
      const request = this.send(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      const timer = setTimeout(() => finish(new CallError('timeout', `no answer within ${this.timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
      request.on('error', (error: NodeJS.ErrnoException) => {
        const failure = new CallError('unreachable', error.code ?? error.message);
        if (request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) Object.assign(failure, { retry: true });
        finish(failure);
      });
      request.on('response', (response: IncomingMessage) => {
        const declared = Number(response.headers['content-length']);
        if (declared > MAX_ANSWER_BYTES) return finish(new CallError('too large', `answer of ${declared} bytes`));
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) finish(new CallError('too large', `answer over ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        response.on('end', () => finish(null, { status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('aborted', () => finish(new CallError('unreachable', 'answer cut off')));
        response.on('error', (error) => finish(new CallError('unreachable', error.message)));
      });
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function messageOf(answer: Record<string, unknown> | null, fallback: string): string {
  const message = answer?.['message'];
  if (typeof message !== 'string' || message.trim() === '') return fallback;
  return message.length > MAX_MESSAGE_LENGTH ? message.slice(0, MAX_MESSAGE_LENGTH) : message;
}

export interface HttpAuthOptions {
  poster: JsonPoster;
  tokens: SessionTokens;
  scopes: SessionScopes;
  bound: PendingBound;
  log: Logger;
}

const FAILED: AuthResult = { status: Status.SERVER_ERROR, message: 'authentication service failed' };

export function httpApplication(options: HttpAuthOptions): Partial<Application> {
  const { poster, tokens, scopes, bound, log } = options;
  // One WRN a second at most while the service is down, with the count of the others.
  let lastWarning = 0;
  let unlogged = 0;
  const serviceTrouble = (what: string) => {
    const now = Date.now();
    if (now - lastWarning < 1000) {
      unlogged++;
      return;
    }
    log.warn(`authentication service: ${what}${unlogged > 0 ? ` (and ${unlogged} more not logged)` : ''}`);
    lastWarning = now;
    unlogged = 0;
  };

  const judge = (status: number, body: string): AuthResult => {
    const answer = parseJson(body);
    if (status >= 500 || status < 200) {
      serviceTrouble(`answered HTTP ${status}`);
      return FAILED;
    }
    if (status !== 200) return { status: Status.NOT_ALLOWED, message: messageOf(answer, `refused by the authentication service (HTTP ${status})`) };
    if (!answer) {
      serviceTrouble('answered 200 without a JSON object');
      return FAILED;
    }
    if (answer['allow'] === false) return { status: Status.NOT_ALLOWED, message: messageOf(answer, 'refused by the authentication service') };
    const clientId = answer['clientId'];
    if (typeof clientId !== 'string' || clientId === '') {
      serviceTrouble("answered 200 without a 'clientId' string");
      return FAILED;
    }
    const grants = parseGrants(answer['read'], answer['write']);
    if (typeof grants === 'string') {
      serviceTrouble(`answered bad patterns for client ${quote(clientId)}: ${grants}`);
      return FAILED;
    }
    const token = tokens.issue(clientId, { grants });
    if (!token) {
      serviceTrouble(`answered patterns for client ${quote(clientId)} too long for a session token (MAX_AUTH_BYTES)`);
      return FAILED;
    }
    return { status: Status.OK, clientId, token };
  };

  return {
    authenticate(data: Json, peer: Peer): Promise<AuthResult> {
      return bound.run('authentication service calls', async () => {
        let answer: { status: number; body: string };
        try {
          answer = await poster.post(JSON.stringify({ authData: data, remoteHost: peer.remoteHost, protocol: peer.protocol }));
        } catch (error) {
          const kind = error instanceof CallError ? error.kind : 'unreachable';
          serviceTrouble(`${kind}: ${(error as Error).message}`);
          return { status: Status.SERVER_ERROR, message: kind === 'timeout' ? 'authentication service did not answer in time' : 'authentication service unreachable' };
        }
        const result = judge(answer.status, answer.body);
        if (result.status === Status.NOT_ALLOWED) log.info(`http auth refused from ${peer.remoteHost} by the service: ${quote(result.message)}`);
        return result;
      });
    },
    validateConnection: tokens.validator(scopes),
  };
}
