/**
 * Pretty-printed JSON cut into coloured pieces for the detail view. Pieces
 * are rendered as text nodes, never as HTML, so a payload cannot inject markup.
 */
import type { Json } from '../../../../shared/client';

export type JsonTokenKind = 'key' | 'string' | 'number' | 'literal' | 'punct';

export interface JsonToken {
  kind: JsonTokenKind;
  text: string;
}

const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([^"\d\-tfn]+|.)/gy;

/** JSON.stringify(data, null, 2), as tokens: keys, strings, numbers, literals and the rest. */
export function highlightJson(data: Json): JsonToken[] {
  const text = JSON.stringify(data, null, 2) ?? 'undefined';
  const tokens: JsonToken[] = [];
  const push = (kind: JsonTokenKind, piece: string) => {
    const last = tokens.at(-1);
    if (last && last.kind === kind && kind === 'punct') last.text += piece;
    else tokens.push({ kind, text: piece });
  };
  TOKEN.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = TOKEN.exec(text)) !== null) {
    const [, string, colon, number, literal, other] = match;
    if (string !== undefined) {
      if (colon !== undefined) {
        push('key', string);
        push('punct', colon);
      } else push('string', string);
    } else if (number !== undefined) push('number', number);
    else if (literal !== undefined) push('literal', literal);
    else push('punct', other ?? match[0]);
  }
  return tokens;
}
