/** Specs of highlightJson: pretty-printed JSON split into coloured tokens. */
import { highlightJson } from './json-highlight';

describe('highlightJson', () => {
  it('cuts pretty JSON into keys, strings, numbers, literals and punctuation', () => {
    const tokens = highlightJson({ a: 'x', n: -1.5e3, ok: true, none: null, list: [1] });
    expect(tokens.map((token) => token.text).join('')).toBe(JSON.stringify({ a: 'x', n: -1.5e3, ok: true, none: null, list: [1] }, null, 2));
    const kinds = (kind: string) => tokens.filter((token) => token.kind === kind).map((token) => token.text);
    expect(kinds('key')).toEqual(['"a"', '"n"', '"ok"', '"none"', '"list"']);
    expect(kinds('string')).toEqual(['"x"']);
    expect(kinds('number')).toEqual(['-1500', '1']);
    expect(kinds('literal')).toEqual(['true', 'null']);
  });

  it('handles escaped quotes and strings that look like keys', () => {
    const tokens = highlightJson(['say "hi": now']);
    expect(tokens.filter((token) => token.kind === 'string').map((token) => token.text)).toEqual(['"say \\"hi\\": now"']);
  });

  it('handles a bare string or number', () => {
    expect(highlightJson('text')).toEqual([{ kind: 'string', text: '"text"' }]);
    expect(highlightJson(7)).toEqual([{ kind: 'number', text: '7' }]);
  });
});
