import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameTooLargeError, NulFramer } from './framer';

const bytes = (text: string) => new TextEncoder().encode(text);
const texts = (frames: Uint8Array[]) => frames.map((frame) => new TextDecoder().decode(frame));

function feed(framer: NulFramer, ...chunks: string[]): string[] {
  const frames: Uint8Array[] = [];
  for (const chunk of chunks) framer.push(bytes(chunk), (frame) => frames.push(frame));
  return texts(frames);
}

test('splits several frames in one read', () => {
  assert.deepEqual(feed(new NulFramer(100), 'a\0bc\0'), ['a', 'bc']);
});

test('keeps an unfinished tail across reads', () => {
  const framer = new NulFramer(100);
  assert.deepEqual(feed(framer, '{"hb"', ':{}'), []);
  assert.equal(framer.buffered, 8);
  assert.deepEqual(feed(framer, '}\0{"dis', 'conn":{}}\0'), ['{"hb":{}}', '{"disconn":{}}']);
  assert.equal(framer.buffered, 0);
});

test('yields an empty frame for a lone NUL so the caller can count it', () => {
  assert.deepEqual(feed(new NulFramer(100), '\0'), ['']);
});

test('refuses a complete frame over the limit', () => {
  assert.throws(() => feed(new NulFramer(4), 'abcde\0'), FrameTooLargeError);
});

test('refuses an unfinished tail as soon as it passes the limit', () => {
  const framer = new NulFramer(4);
  feed(framer, 'abc');
  assert.throws(() => feed(framer, 'de'), FrameTooLargeError);
});

test('accepts a frame of exactly the limit split over reads', () => {
  assert.deepEqual(feed(new NulFramer(4), 'ab', 'cd\0'), ['abcd']);
});

test('copies the tail so a reused read buffer cannot corrupt it', () => {
  const framer = new NulFramer(100);
  const buffer = bytes('xy');
  const frames: Uint8Array[] = [];
  framer.push(buffer, (frame) => frames.push(frame));
  buffer.set(bytes('zz'));
  framer.push(bytes('\0'), (frame) => frames.push(frame));
  assert.deepEqual(texts(frames), ['xy']);
});
