/** One line of a client tab's log, and how the dashboard words each event. */
import { JmqtError, statusName, Status, type AuthAnswer, type Json, type PushEvent } from '../../../../shared/client';

/** `message`: a push; `ok` / `error`: an answer; `info`: the dashboard's own steps. */
export type LogKind = 'info' | 'ok' | 'error' | 'message';

export interface LogLine {
  /** Increasing number, unique within one log. */
  seq: number;
  /** When it was logged, ms since the epoch. */
  at: number;
  kind: LogKind;
  text: string;
  /** The channel the line is about, for the channel filter. */
  channel?: string;
  /** Payload kept for the detail view (pretty-printed JSON). */
  data?: Json;
  sender?: string;
  qos?: 0 | 1;
  retained?: boolean;
}

/** What a new line needs; the log adds seq and time. */
export type LogEntry = Omit<LogLine, 'seq' | 'at'>;

/** Strings as they are, everything else as compact JSON (the original page's rule). */
export function dataText(data: Json): string {
  return typeof data === 'string' ? data : JSON.stringify(data);
}

/** `Message on channel 'c' from 'sender' : data (QOS q, RETAIN r)`; the server publishes with sender `""`. */
export function pushEntry(push: PushEvent): LogEntry {
  const sender = push.sender === '' ? 'server' : push.sender;
  return {
    kind: 'message',
    text: `Message on channel '${push.channel}' from '${sender}' : ${dataText(push.data)} (QOS ${push.qos}, RETAIN ${push.retained ? 1 : 0})`,
    channel: push.channel,
    data: push.data,
    sender,
    qos: push.qos,
    retained: push.retained,
  };
}

export type Action = 'Subscribe to' | 'Unsubscribe from' | 'Publish to';

/** `Subscribe to "c" OK.` or `… FAILED. Status NOT_ALLOWED (7).`; a control channel's answer is appended. */
export function answerEntry(action: Action, channel: string, status: number, response?: Json): LogEntry {
  if (status !== Status.OK) {
    return { kind: 'error', channel, text: `${action} "${channel}" FAILED. ${statusText(status)}.` };
  }
  const entry: LogEntry = { kind: 'ok', channel, text: `${action} "${channel}" OK.` };
  if (response !== undefined) {
    entry.text += ` Response: ${dataText(response)}`;
    entry.data = response;
  }
  return entry;
}

/**
 * A QoS 0 pub once written: the broker answers it only with a refusal (protocol 7.2),
 * so it is "sent", never "OK"; a refusal rewrites this line (answerEntry).
 */
export function sentEntry(channel: string): LogEntry {
  return { kind: 'info', channel, text: `Publish to "${channel}" sent (QoS 0).` };
}

/** `Status OK (1)`: a status by name and number (protocol 4.1). */
export function statusText(status: number): string {
  return `Status ${statusName(status)} (${status})`;
}

/** The authAck as it came on the wire (protocol 3.2), for the detail pane. */
export function authAckPacket(answer: AuthAnswer): Json {
  const body: { [key: string]: Json } = { st: answer.status };
  if (answer.token !== undefined) body['at'] = answer.token;
  if (answer.clientId !== undefined) body['cl'] = answer.clientId;
  if (answer.message !== undefined) body['mg'] = answer.message;
  return { authAck: body };
}

/** The whole authAck: `authAck: Status OK (1), Client ID 'alice', Token 'x'`, and `Message '…'` when there is one. */
export function authAckEntry(answer: AuthAnswer): LogEntry {
  const parts = [statusText(answer.status)];
  if (answer.clientId !== undefined) parts.push(`Client ID '${answer.clientId}'`);
  if (answer.token !== undefined) parts.push(`Token '${answer.token}'`);
  if (answer.message !== undefined) parts.push(`Message '${answer.message}'`);
  return { kind: answer.status === Status.OK ? 'ok' : 'error', text: `authAck: ${parts.join(', ')}`, data: authAckPacket(answer) };
}

/** A request that got no answer: the SDK's JmqtError (timeout -1, network 9) or anything else thrown. */
export function failureEntry(action: Action, channel: string, error: unknown): LogEntry {
  const status = error instanceof JmqtError ? error.status : Status.UNKNOWN;
  const reason = error instanceof Error ? error.message : String(error);
  return { kind: 'error', channel, text: `${action} "${channel}" FAILED. ${statusText(status)}: ${reason}` };
}

export function infoEntry(text: string, kind: LogKind = 'info'): LogEntry {
  return { kind, text };
}
