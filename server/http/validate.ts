/**
 * Checks of what the admin API is sent: path parameters (length-checked),
 * query parameters (paging capped), and JSON bodies field by field. A bad
 * value throws BadRequest, answered 400 with a message that names the field.
 */
import type { NextFunction, Request, Response } from 'express';
import { normaliseChannel } from '../../shared/channel';
import { MAX_DATA_DEPTH } from '../../shared/keys';
import type { Json } from '../../shared/packets';

export class BadRequest extends Error {
  constructor(message: string, readonly status = 400) {
    super(message);
  }
}

type Handler = (request: Request, response: Response) => Promise<unknown> | unknown;

/** Runs a handler: BadRequest becomes its status with `{error}`, anything else goes to the error handler (500). */
export function handle(handler: Handler) {
  return async (request: Request, response: Response, next: NextFunction) => {
    try {
      await handler(request, response);
    } catch (error) {
      if (error instanceof BadRequest) response.status(error.status).json({ error: error.message });
      else next(error);
    }
  };
}

/** A client id in the path: 1 to `max` characters, as sent (client ids are exact). */
export function clientIdParam(value: unknown, max: number): string {
  if (typeof value !== 'string' || value === '') throw new BadRequest('clientId: required');
  if (value.length > max) throw new BadRequest(`clientId: longer than MAX_CLIENT_ID_LENGTH (${max} characters)`);
  return value;
}

/** A channel in the path (`*channel`: its segments, so `a/b` needs no escaping; `#` must be sent as %23): trimmed, at most `max` characters. */
export function channelParam(value: unknown, max: number): string {
  const raw = Array.isArray(value) ? value.join('/') : value;
  if (typeof raw !== 'string') throw new BadRequest('channel: required');
  return checkChannel('channel', raw, max);
}

function checkChannel(field: string, raw: string, max: number): string {
  const name = normaliseChannel(raw);
  if (name === null) throw new BadRequest(`${field}: '${raw.slice(0, 40)}' is not a channel name`);
  if (name.length > max) throw new BadRequest(`${field}: longer than MAX_CHANNEL_LENGTH (${max} characters)`);
  return name;
}

export function idParam(value: unknown, max: number): string {
  if (typeof value !== 'string' || value === '') throw new BadRequest('messageId: required');
  if (value.length > max) throw new BadRequest(`messageId: longer than ${max} characters`);
  return value;
}

/** An optional text query parameter, at most `max` characters. */
export function queryText(request: Request, name: string, max: number): string | undefined {
  const value = request.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequest(`${name}: give it once, as text`);
  if (value.length > max) throw new BadRequest(`${name}: longer than ${max} characters`);
  return value;
}

/** An optional integer query parameter of at least `min`; above `cap` it is capped. */
export function queryInt(request: Request, name: string, options: { min: number; cap: number; fallback: number }): number {
  const value = request.query[name];
  if (value === undefined || value === '') return options.fallback;
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value) || Number(value) < options.min) {
    throw new BadRequest(`${name}: must be an integer of at least ${options.min}${options.cap < Number.MAX_SAFE_INTEGER ? ` (at most ${options.cap} are given)` : ''}`);
  }
  return Math.min(Number(value), options.cap);
}

/** The JSON body: an object with no fields but `allowed`. */
export function jsonBody(request: Request, allowed: readonly string[]): Record<string, unknown> {
  const body: unknown = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('body: must be a JSON object, sent with Content-Type: application/json');
  }
  for (const key of Object.keys(body)) if (!allowed.includes(key)) throw new BadRequest(`${key}: unknown field (allowed: ${allowed.join(', ')})`);
  return body as Record<string, unknown>;
}

export function booleanField(body: Record<string, unknown>, name: string, fallback?: boolean): boolean {
  const value = body[name];
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'boolean') throw new BadRequest(`${name}: ${value === undefined ? 'required, ' : ''}must be true or false`);
  return value;
}

export function channelField(body: Record<string, unknown>, name: string, max: number): string {
  const value = body[name];
  if (typeof value !== 'string') throw new BadRequest(`${name}: ${value === undefined ? 'required, ' : ''}must be a string`);
  return checkChannel(name, value, max);
}

export function qosField(body: Record<string, unknown>, name: string): 0 | 1 {
  const value = body[name] ?? 0;
  if (value !== 0 && value !== 1) throw new BadRequest(`${name}: must be 0 or 1`);
  return value;
}

/** Any JSON value but one nested deeper than MAX_DATA_DEPTH or holding a number JSON cannot carry (protocol 1.5). */
export function dataField(body: Record<string, unknown>, name: string): Json {
  if (!(name in body)) throw new BadRequest(`${name}: required (any JSON value; null clears a retained message)`);
  const value = body[name];
  if (unfit(value, MAX_DATA_DEPTH)) throw new BadRequest(`${name}: nested deeper than ${MAX_DATA_DEPTH} levels, or holds a number JSON cannot carry`);
  return value as Json;
}

function unfit(value: unknown, depthLeft: number): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  if (depthLeft === 0) return true;
  for (const item of Array.isArray(value) ? value : Object.values(value)) if (unfit(item, depthLeft - 1)) return true;
  return false;
}
