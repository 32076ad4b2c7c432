/**
 * A uniform random sample of at most `capacity` numbers from a stream of unknown length (Vitter's
 * Algorithm R), reproducible from its seed. Below the capacity it holds every value, which is what lets
 * KS and Wasserstein be exact there.
 */
export class Reservoir {
  readonly capacity: number;
  /** Values offered so far. */
  seen = 0;
  private data: Float64Array;
  private state: number;

  constructor(capacity: number, seed: number) {
    this.capacity = capacity;
    this.data = new Float64Array(Math.min(capacity, 1024));
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  get size(): number {
    return Math.min(this.seen, this.capacity);
  }

  add(value: number): void {
    const seen = this.seen++;
    if (seen < this.capacity) {
      if (seen === this.data.length) this.grow();
      this.data[seen] = value;
      return;
    }
    const slot = Math.floor(this.random() * (seen + 1));
    if (slot < this.capacity) this.data[slot] = value;
  }

  /** The sample as a new array, sorted ascending. */
  sorted(): Float64Array {
    return this.data.slice(0, this.size).sort();
  }

  private grow(): void {
    const next = new Float64Array(Math.min(this.capacity, this.data.length * 2));
    next.set(this.data);
    this.data = next;
  }

  /** mulberry32: small, fast and good enough to pick reservoir slots. */
  private random(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
