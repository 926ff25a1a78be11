// LOG_FORMAT: `text` lines as before, `json` one object per line with time,
// level and message, control characters escaped by JSON (and the few it
// leaves raw escaped as \u too), so a client's text never starts a line.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from './config';
import { createLogger, formatLine } from './log';

const time = new Date('2026-01-02T03:04:05.678Z');

describe('LOG_FORMAT', () => {
  it('defaults to text; json and text are accepted, anything else stops start-up naming the key', () => {
    assert.equal(loadConfig([], {}).LOG_FORMAT, 'text');
    assert.equal(loadConfig([], { JMQT_LOG_FORMAT: 'json' }).LOG_FORMAT, 'json');
    assert.throws(() => loadConfig([], { JMQT_LOG_FORMAT: 'xml' }), /LOG_FORMAT .*not one of text, json/);
  });

  it('text: TIME LEVEL message, control characters escaped', () => {
    assert.equal(formatLine('text', 'WRN', 'a\nb', time), '2026-01-02T03:04:05.678Z WRN a\\nb\n');
  });

  it('json: one object per line with time, level and message', () => {
    const line = formatLine('json', 'INF', 'JMQT broker listening', time);
    assert.ok(line.endsWith('\n'));
    assert.deepEqual(JSON.parse(line), { time: '2026-01-02T03:04:05.678Z', level: 'info', message: 'JMQT broker listening' });
    assert.equal(JSON.parse(formatLine('json', 'DBG', 'x', time)).level, 'debug');
    assert.equal(JSON.parse(formatLine('json', 'WRN', 'x', time)).level, 'warn');
    assert.equal(JSON.parse(formatLine('json', 'ERR', 'x', time)).level, 'error');
  });

  it('json: a message with line breaks, escape sequences, C1 controls, separators and bidi overrides stays one line and decodes to itself', () => {
    const hostile = 'a\nb\r\n2026-01-01T00:00:00.000Z ERR forged\u001b[31m\u0085\u2028\u2029\u202e\u007f"\\ é ✓ \ud800';
    const line = formatLine('json', 'ERR', hostile, time);
    assert.equal(line.indexOf('\n'), line.length - 1);
    assert.doesNotMatch(line.slice(0, -1), /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
    assert.equal(JSON.parse(line).message, hostile);
  });

  it('a logger with LOG_FORMAT json writes JSON lines to LOG_PATH, and keeps LOG_MODE', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jmqt-log-'));
    try {
      const path = join(dir, 'broker.log');
      const log = createLogger('INF', path, 'json');
      log.debug('not written');
      log.info('one');
      log.error('two\nthree');
      await log.close();
      const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line));
      assert.deepEqual(lines.map(({ level, message }) => [level, message]), [['info', 'one'], ['error', 'two\nthree']]);
      for (const { time: written } of lines) assert.match(written, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
