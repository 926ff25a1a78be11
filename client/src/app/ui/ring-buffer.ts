/**
 * A fixed-capacity FIFO: pushing past the capacity overwrites the oldest
 * item, so memory stays bounded however fast items arrive.
 */
export class RingBuffer<T> {
  private readonly slots: Array<T | undefined>;
  private head = 0;
  private size = 0;
  private added = 0;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.slots = new Array<T | undefined>(capacity);
  }

  /** Items pushed out by newer ones since the last clear. */
  get dropped(): number {
    return this.added - this.size;
  }

  push(item: T): void {
    this.slots[(this.head + this.size) % this.capacity] = item;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
    this.added++;
  }

  /** Items held now. */
  get length(): number {
    return this.size;
  }

  /** The item `index` places after the oldest (0 = oldest); undefined out of range. */
  at(index: number): T | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) return undefined;
    return this.slots[(this.head + index) % this.capacity];
  }

  /** Replaces the item at `index` (0 = oldest); false out of range. */
  set(index: number, item: T): boolean {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) return false;
    this.slots[(this.head + index) % this.capacity] = item;
    return true;
  }

  /** Oldest first. */
  toArray(): T[] {
    const out = new Array<T>(this.size);
    for (let i = 0; i < this.size; i++) out[i] = this.slots[(this.head + i) % this.capacity] as T;
    return out;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.size = 0;
    this.added = 0;
  }
}
