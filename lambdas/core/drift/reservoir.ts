import { sortFloat64 } from '../stats/radix-sort.ts';
import { mulberry32 } from '../stats/random.ts';

/**
 * A uniform random sample of at most `capacity` numbers from a stream of unknown length, reproducible from
 * its seed. Below the capacity it holds every value, which is what lets KS and Wasserstein be exact there.
 * Past it, Li's Algorithm L draws how many values to skip before the next replacement, so the per-value
 * cost is a comparison rather than a random number (K. Li, ACM TOMS 20(4), 1994).
 */
export class Reservoir {
  capacity: number;
  /** Values offered so far. */
  seen = 0;
  private data: Float64Array;
  private readonly random: () => number;
  /** Index (in `seen` order) of the next value that replaces a sampled one. */
  private next = 0;
  /** Algorithm L's running weight. */
  private weight = 0;

  constructor(capacity: number, seed: number) {
    this.capacity = capacity;
    this.data = new Float64Array(Math.min(capacity, 1024));
    this.random = mulberry32(seed >>> 0 || 0x9e3779b9);
  }

  /** Changes the capacity before the sample is full (while every value is still kept). */
  setCapacity(capacity: number): void {
    if (this.seen >= Math.min(this.capacity, capacity)) throw new RangeError('the sample is already full');
    this.capacity = capacity;
  }

  get size(): number {
    return Math.min(this.seen, this.capacity);
  }

  add(value: number): void {
    const seen = this.seen++;
    if (seen < this.capacity) {
      if (seen === this.data.length) this.grow();
      this.data[seen] = value;
      if (seen + 1 === this.capacity) {
        this.weight = Math.exp(Math.log(1 - this.random()) / this.capacity);
        this.skip(seen);
      }
      return;
    }
    if (seen !== this.next) return;
    this.data[Math.floor(this.random() * this.capacity)] = value;
    this.weight *= Math.exp(Math.log(1 - this.random()) / this.capacity);
    this.skip(seen);
  }

  private skip(from: number): void {
    // random() is in [0, 1); 1 - random() is in (0, 1], so the logarithm is finite.
    this.next = from + Math.floor(Math.log(1 - this.random()) / Math.log(1 - this.weight)) + 1;
  }

  /**
   * The sample sorted ascending, in place: no copy, but the reservoir must not be used afterwards (profiles
   * take it once a pass is over).
   */
  takeSorted(): Float64Array {
    const sample = sortFloat64(this.data.subarray(0, this.size));
    this.data = new Float64Array(0);
    this.seen = 0;
    return sample;
  }

  /** The sample as a new array, sorted ascending. */
  sorted(): Float64Array {
    return sortFloat64(this.data.slice(0, this.size));
  }

  private grow(): void {
    const next = new Float64Array(Math.min(this.capacity, this.data.length * 2));
    next.set(this.data);
    this.data = next;
  }
}

/** A stable 32-bit seed for one column (and segment), so samples do not depend on column order. */
export function seedFor(seed: number, ...parts: string[]): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) hash = Math.imul(hash ^ part.charCodeAt(i), 0x01000193);
    hash = Math.imul(hash ^ 0xff, 0x01000193);
  }
  return hash >>> 0;
}
