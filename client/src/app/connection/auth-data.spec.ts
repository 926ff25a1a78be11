/** Specs of the Auth data helpers: the default, the parse, and renaming client_name in step with Client Name. */
import { defaultAuthText, parseAuthData, renameClient } from './auth-data';

describe('auth data', () => {
  it('defaults to the original page\'s {"client_name": …}, trimmed and escaped', () => {
    expect(defaultAuthText(' webclient ')).toBe('{"client_name": "webclient"}');
    expect(defaultAuthText('a"b')).toBe('{"client_name": "a\\"b"}');
    expect(JSON.parse(defaultAuthText('a"b'))).toEqual({ client_name: 'a"b' });
  });

  it('takes any JSON value and refuses blank or broken text with the reason', () => {
    expect(parseAuthData('{"client_name": "a", "password": "p"}') as unknown).toEqual({ ok: true, data: { client_name: 'a', password: 'p' } });
    expect(parseAuthData('null') as unknown).toEqual({ ok: true, data: null });
    expect(parseAuthData('"just a string"') as unknown).toEqual({ ok: true, data: 'just a string' });
    expect(parseAuthData('  ') as unknown).toEqual({ ok: false, error: 'Please enter auth data: any JSON value' });
    const broken = parseAuthData('{"client_name": ');
    expect(broken.ok).toBeFalse();
    expect(broken.ok ? '' : broken.error).toMatch(/^Invalid JSON: /);
  });

  it('renames client_name when the Client Name changes, keeping the rest and its formatting', () => {
    expect(renameClient('{"client_name": "alice"}', 'alice', 'bob')).toBe('{"client_name": "bob"}');
    expect(renameClient('{\n  "client_name" : "alice",\n  "password": "p"\n}', 'alice', 'bob ')).toBe('{\n  "client_name" : "bob",\n  "password": "p"\n}');
    expect(renameClient('{"client_name": "a.b"}', 'a.b', '$&x')).toBe('{"client_name": "$&x"}');
  });

  it('leaves text alone that does not name the old client', () => {
    expect(renameClient('{"token": "eyJ"}', 'alice', 'bob')).toBe('{"token": "eyJ"}');
    expect(renameClient('{"client_name": "carol"}', 'alice', 'bob')).toBe('{"client_name": "carol"}');
    expect(renameClient('{"client_name": "axb"}', 'a.b', 'c')).toBe('{"client_name": "axb"}');
  });
});
