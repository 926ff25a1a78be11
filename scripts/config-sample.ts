/**
 * `npm run -s config:sample > server.conf`: the sample configuration file,
 * generated from the schema of server/config.ts: every key commented out
 * with its default, after its explanation (the key's doc comment in the
 * schema) and the values it takes. The broker's own parser reads the file
 * (every line a comment: the defaults); uncommenting a line sets that key.
 * server/tests/server-conf.test.ts fails when the committed server.conf is
 * not what this prints.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { configKeys, defaultConfig, keyKind, type ConfigKey, type Kind } from '../server/config';

const configSource = fileURLToPath(new URL('../server/config.ts', import.meta.url));
const WIDTH = 78;

/** The doc comment of every key of the `schema` object in server/config.ts, as one line of text. */
export function keyComments(source = readFileSync(configSource, 'utf8')): Map<string, string> {
  const file = ts.createSourceFile('config.ts', source, ts.ScriptTarget.Latest, true);
  const comments = new Map<string, string>();
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.name.getText(file) === 'schema' && node.initializer) {
      let literal: ts.Expression = node.initializer;
      while (ts.isSatisfiesExpression(literal) || ts.isAsExpression(literal) || ts.isParenthesizedExpression(literal)) literal = literal.expression;
      if (!ts.isObjectLiteralExpression(literal)) return;
      for (const property of literal.properties) {
        const ranges = ts.getLeadingCommentRanges(source, property.getFullStart()) ?? [];
        const doc = ranges.map((range) => source.slice(range.pos, range.end)).filter((text) => text.startsWith('/**')).at(-1);
        if (!doc || !property.name) continue;
        const text = doc.replace(/^\/\*\*|\*\/$/g, '').split('\n').map((line) => line.replace(/^\s*\*?\s?/, '').trim()).filter(Boolean).join(' ');
        comments.set(property.name.getText(file), text);
      }
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return comments;
}

/** The values a key takes, as the sample file says them; nothing for free text. */
function kindText(kind: Kind): string {
  switch (kind.type) {
    case 'int': return ` (whole number, ${kind.min} to ${kind.max})`;
    case 'bool': return ' (0 or 1)';
    case 'enum': return ` (one of: ${kind.values.join(', ')})`;
    case 'string': return '';
  }
}

/** A default as the config file writes it (flags as 0 and 1, empty text as nothing). */
export function valueText(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '#';
  for (const word of text.split(/\s+/)) {
    if (line.length > 1 && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = '#';
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

/** The whole file. Throws when a key has no doc comment: each needs one line of explanation. */
export function configSample(comments = keyComments()): string {
  const defaults = defaultConfig();
  const missing = configKeys.filter((key) => !comments.get(key));
  if (missing.length > 0) throw new Error(`server/config.ts: no doc comment for ${missing.join(', ')}; every key needs one line of explanation`);
  const out = [
    '# JMQT broker configuration: `npm start -- --config server.conf`',
    '# (or JMQT_CONFIG=server.conf).',
    '#',
    '# Every key is shown commented out with its default: uncomment a line to change',
    '# it. `KEY = value` lines, `#` comments; an unknown key or a bad value stops',
    '# start-up naming the key. A JMQT_<KEY> environment variable overrides the',
    '# file (JMQT_SOCKET_PORT=18010).',
    '#',
    '# Generated from server/config.ts by `npm run -s config:sample > server.conf`.',
  ];
  for (const key of configKeys as ConfigKey[]) {
    const value = valueText(defaults[key]);
    out.push('', ...wrap(`${comments.get(key)}${kindText(keyKind(key))}`), value === '' ? `#${key} =` : `#${key} = ${value}`);
  }
  return out.join('\n') + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.stdout.write(configSample());
