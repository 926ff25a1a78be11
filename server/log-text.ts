/**
 * Client-supplied text as it may appear in a log line: quoted, shortened, and
 * with every character that could end the line, move the cursor or reorder
 * what a terminal shows written as an escape. A client can then never forge a
 * line of its own (`… ERR storage corrupted …`) or send escape sequences to an
 * operator's terminal.
 */

/** Longest piece of client text a log line carries, characters. */
const MAX_QUOTED = 160;

/**
 * C0 and C1 controls, DEL, line and paragraph separators, bidirectional
 * overrides and isolates, the byte order mark, and lone surrogates.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(char: string): string {
  switch (char) {
    case '\n': return '\\n';
    case '\r': return '\\r';
    case '\t': return '\\t';
    default: return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

/** Makes any text safe to put inside a log line; the logger applies it to whole lines too. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** `"text"` with quotes and backslashes escaped, unsafe characters escaped, and at most MAX_QUOTED characters. */
export function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  const cut = text.length > MAX_QUOTED;
  const shown = escapeControls((cut ? text.slice(0, MAX_QUOTED) : text).replace(/[\\"]/g, '\\$&'));
  return `"${shown}"${cut ? `…(${text.length} chars)` : ''}`;
}
