/**
 * Property-based tests of the NUL framer (fast-check): however a byte stream
 * is split into reads, the framer yields the same frames; it never throws on
 * any input but FrameTooLargeError, and that exactly when a frame (or the
 * unfinished tail) exceeds the limit, after the frames before it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameTooLargeError, NulFramer } from './framer';

const RUNS = { numRuns: 1000 };

/** Frame contents: any bytes but NUL. */
const frameBytes = (maxLength: number, minLength = 0) => fc.uint8Array({ minLength, maxLength }).map((bytes) => bytes.map((byte) => byte === 0 ? 1 : byte));

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** frame NUL frame NUL ... tail (no NUL). */
function stream(frames: Uint8Array[], tail: Uint8Array): Uint8Array {
  return concat([...frames.flatMap((frame) => [frame, Uint8Array.of(0)]), tail]);
}

/** Cuts `bytes` at the given points (any numbers; taken modulo the length). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.slice(start, point)); // empty reads included
    start = point;
  }
  return chunks;
}

/** Feeds the chunks; answers the frames (copied: the framer may hand out views) and what it threw. */
function feed(framer: NulFramer, chunks: Uint8Array[]): { frames: number[][]; error: unknown } {
  const frames: number[][] = [];
  try {
    for (const chunk of chunks) framer.push(chunk, (frame) => frames.push([...frame]));
  } catch (error) {
    return { frames, error };
  }
  return { frames, error: null };
}

describe('framer properties', () => {
  it('split points never change the frames yielded, nor what stays buffered', () => {
    fc.assert(fc.property(fc.array(frameBytes(40), { maxLength: 12 }), frameBytes(40), fc.array(fc.nat(), { maxLength: 20 }), (frames, tail, cuts) => {
      const bytes = stream(frames, tail);
      const framer = new NulFramer(1000);
      const result = feed(framer, split(bytes, cuts));
      assert.equal(result.error, null);
      assert.deepStrictEqual(result.frames, frames.map((frame) => [...frame]));
      assert.equal(framer.buffered, tail.length);
    }), RUNS);
  });

  it('one read or one byte per read: the same frames', () => {
    fc.assert(fc.property(fc.array(frameBytes(30), { maxLength: 8 }), (frames) => {
      const bytes = stream(frames, new Uint8Array());
      const whole = feed(new NulFramer(1000), [bytes]);
      const byByte = feed(new NulFramer(1000), [...bytes].map((byte) => Uint8Array.of(byte)));
      assert.deepStrictEqual(byByte, whole);
    }), RUNS);
  });

  it('never throws on arbitrary reads but FrameTooLargeError', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 64 }), fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 20 }), (limit, chunks) => {
      const { error } = feed(new NulFramer(limit), chunks);
      if (error !== null) assert.ok(error instanceof FrameTooLargeError, `threw ${String(error)}`);
    }), RUNS);
  });

  it('throws FrameTooLargeError exactly when a frame or the tail exceeds the limit, after every frame before it, whatever the splits', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 30 }), fc.array(frameBytes(40), { maxLength: 10 }), frameBytes(40), fc.array(fc.nat(), { maxLength: 20 }),
      (limit, frames, tail, cuts) => {
        const firstTooLarge = frames.findIndex((frame) => frame.length > limit);
        const tooLarge = firstTooLarge >= 0 || tail.length > limit;
        const before = firstTooLarge >= 0 ? frames.slice(0, firstTooLarge) : frames;
        const { frames: yielded, error } = feed(new NulFramer(limit), split(stream(frames, tail), cuts));
        assert.equal(error instanceof FrameTooLargeError, tooLarge, `error: ${String(error)}`);
        assert.deepStrictEqual(yielded, before.map((frame) => [...frame]));
        if (error instanceof FrameTooLargeError) assert.equal(error.limit, limit);
      },
    ), RUNS);
  });

  it('a frame of exactly the limit is accepted, however it is split', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 50 }).chain((limit) => fc.tuple(fc.constant(limit), frameBytes(limit, limit))), fc.array(fc.nat(), { maxLength: 10 }), ([limit, frame], cuts) => {
      const { frames, error } = feed(new NulFramer(limit), split(stream([frame], new Uint8Array()), cuts));
      assert.equal(error, null);
      assert.deepStrictEqual(frames, [[...frame]]);
    }), { numRuns: 300 });
  });

  it('the caller may reuse its read buffer: a held tail is a copy', () => {
    fc.assert(fc.property(fc.array(frameBytes(20), { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
      const chunks = split(stream(frames, new Uint8Array()), cuts);
      const framer = new NulFramer(1000);
      const yielded: number[][] = [];
      const buffer = new Uint8Array(1000);
      for (const chunk of chunks) {
        buffer.set(chunk);
        framer.push(buffer.subarray(0, chunk.length), (frame) => yielded.push([...frame]));
        buffer.fill(0xee); // the next read overwrites the buffer
      }
      assert.deepStrictEqual(yielded, frames.map((frame) => [...frame]));
    }), RUNS);
  });
});
