// The sample server.conf at the root: every key of the schema, commented out
// with its default and explained, read by the broker's own parser; and what
// `npm run -s config:sample` prints, so that a new key or a changed default
// fails here until the file is generated again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configKeys, defaultConfig, loadConfig, parseConfigFile } from '../config';
import { configSample, keyComments, valueText } from '../../scripts/config-sample';

const file = fileURLToPath(new URL('../../server.conf', import.meta.url));
const text = readFileSync(file, 'utf8');
const regenerate = 'run `npm run -s config:sample > server.conf`';

describe('server.conf, the sample configuration', () => {
  it('has every key, commented out with its default', () => {
    const defaults = defaultConfig();
    for (const key of configKeys) {
      const value = valueText(defaults[key]);
      const line = value === '' ? `#${key} =` : `#${key} = ${value}`;
      assert.ok(text.split('\n').includes(line), `server.conf lacks '${line}': ${regenerate}`);
    }
    const listed = [...text.matchAll(/^#([A-Z][A-Z0-9_]*) =/gm)].map((match) => match[1]);
    assert.deepEqual(listed, configKeys, `server.conf lists other keys than the schema, or in another order: ${regenerate}`);
  });

  it('is exactly what npm run config:sample prints', () => {
    assert.equal(text, configSample(), `server.conf is out of date: ${regenerate}`);
  });

  it('explains every key in the schema (a doc comment in server/config.ts)', () => {
    const comments = keyComments();
    for (const key of configKeys) assert.ok(comments.get(key), `${key} has no doc comment in server/config.ts`);
  });

  it('is read by the broker as it is (the defaults), and with every key uncommented gives the defaults again', () => {
    assert.deepEqual(parseConfigFile(text, 'server.conf'), {});
    assert.deepEqual(loadConfig(['--config', file], {}), defaultConfig());
    const uncommented = text.replace(/^#([A-Z][A-Z0-9_]* =)/gm, '$1');
    assert.deepEqual(parseConfigFile(uncommented, 'server.conf'), defaultConfig());
  });
});
