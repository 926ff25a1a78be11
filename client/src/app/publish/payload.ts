/**
 * What the Message field sends: with "JSON" on, the text must parse as JSON
 * (any JSON value: object, array, number, string, true/false/null); with it
 * off, the text goes as a JSON string, as the original page sent it.
 */
import type { Json } from '../../../../shared/client';

export type PayloadResult = { ok: true; data: Json } | { ok: false; error: string };

export function parsePayload(text: string, asJson: boolean): PayloadResult {
  if (text.trim() === '') return { ok: false, error: 'Please enter a message' };
  if (!asJson) return { ok: true, data: text };
  try {
    return { ok: true, data: JSON.parse(text) as Json };
  } catch (error) {
    return { ok: false, error: `Invalid JSON: ${(error as Error).message}` };
  }
}

/** True when plain text would parse as a JSON object or array: worth a hint that the JSON toggle is off. */
export function looksLikeJson(text: string): boolean {
  const trimmed = text.trim();
  if (!/^[[{]/.test(trimmed)) return false;
  try {
    JSON.parse(trimmed);
    return true;
  } catch {
    return false;
  }
}

/** Re-indents valid JSON with two spaces; answers the text unchanged when it does not parse. */
export function formatJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
