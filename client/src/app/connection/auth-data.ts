/**
 * The Auth data field: auth `dt` (protocol 3.2), any JSON, so that every
 * authentication mode of the broker can be tried. Its default is what the
 * original page sent (protocol 9.1), and it follows the Client Name field.
 */
import type { Json } from '../../../../shared/client';

export type AuthDataResult = { ok: true; data: Json } | { ok: false; error: string };

/** `{"client_name": "<name>"}`, the name trimmed as the original page sent it. */
export function defaultAuthText(name: string): string {
  return `{"client_name": ${JSON.stringify(name.trim())}}`;
}

/** Any JSON value goes (protocol 3.2: even `null`); blank or broken text is refused with the reason. */
export function parseAuthData(text: string): AuthDataResult {
  if (text.trim() === '') return { ok: false, error: 'Please enter auth data: any JSON value' };
  try {
    return { ok: true, data: JSON.parse(text) as Json };
  } catch (error) {
    return { ok: false, error: `Invalid JSON: ${(error as Error).message}` };
  }
}

/**
 * The auth text once the Client Name changed from `from` to `to`: its
 * `"client_name": "<from>"` becomes `"client_name": "<to>"`, the rest and its
 * formatting kept (a password stays); text without that pair is left alone.
 */
export function renameClient(text: string, from: string, to: string): string {
  const literal = JSON.stringify(from.trim()).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pair = new RegExp(`("client_name"\\s*:\\s*)${literal}`);
  return text.replace(pair, (_match, key: string) => key + JSON.stringify(to.trim()));
}
