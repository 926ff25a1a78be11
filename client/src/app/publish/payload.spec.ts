/** Specs of the Message payload rules: text or JSON, parse errors, spotting JSON, and formatting it. */
import { formatJson, looksLikeJson, parsePayload as parseTyped } from './payload';

/** The Json type is too deep for jasmine's toEqual typings: compare as unknown. */
const parsePayload = (text: string, asJson: boolean): { ok: boolean; data?: unknown; error?: string } => parseTyped(text, asJson);

describe('parsePayload', () => {
  it('sends text as a string when JSON is off', () => {
    expect(parsePayload('hello', false)).toEqual({ ok: true, data: 'hello' });
    expect(parsePayload('{"a":1}', false)).toEqual({ ok: true, data: '{"a":1}' });
  });

  it('parses any JSON value when JSON is on', () => {
    expect(parsePayload('{"a":[1,true,null]}', true)).toEqual({ ok: true, data: { a: [1, true, null] } });
    expect(parsePayload('42', true)).toEqual({ ok: true, data: 42 });
    expect(parsePayload('"s"', true)).toEqual({ ok: true, data: 's' });
  });

  it('reports the parse error', () => {
    const result = parsePayload('{"a":', true);
    expect(result.ok).toBeFalse();
    expect(result.error).toMatch(/^Invalid JSON: /);
    expect(parsePayload('hello', true).ok).toBeFalse();
  });

  it('requires a message', () => {
    expect(parsePayload('   ', false)).toEqual({ ok: false, error: 'Please enter a message' });
    expect(parsePayload('', true)).toEqual({ ok: false, error: 'Please enter a message' });
  });

  it('spots text that is JSON, and formats it', () => {
    expect(looksLikeJson(' {"a": 1} ')).toBeTrue();
    expect(looksLikeJson('[1,2]')).toBeTrue();
    expect(looksLikeJson('42')).toBeFalse();
    expect(looksLikeJson('{nope')).toBeFalse();
    expect(formatJson('{"a":1}')).toBe('{\n  "a": 1\n}');
    expect(formatJson('{bad')).toBe('{bad');
  });
});
