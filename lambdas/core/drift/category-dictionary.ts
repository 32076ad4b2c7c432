import { ValueError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8');

/** Returned by {@link CategoryDictionary.lookupBytes} for a label not yet known once the soft limit is hit. */
export const NOT_TRACKED = -1;

/**
 * Gives each distinct category of one column a small integer id. CSV fields are looked up by their bytes in
 * an open-addressing table of FNV-1a hashes (confirmed by comparing bytes), so a repeated category costs a
 * hash and a compare and never allocates a string.
 */
export class CategoryDictionary {
  readonly labels: string[] = [];
  private readonly byText = new Map<string, number>();
  private readonly encoded: Uint8Array[] = [];
  private hashes = new Int32Array(16);
  /** Slot -> id + 1 (0 is empty); the size is a power of two kept at most half full. */
  private table = new Int32Array(64);
  private readonly limit: number;
  private readonly tooMany: string;

  /**
   * @param limit most distinct values accepted.
   * @param tooMany the error message when a value past the limit arrives.
   */
  constructor(limit: number, tooMany: string) {
    this.limit = limit;
    this.tooMany = tooMany;
  }

  get size(): number {
    return this.labels.length;
  }

  idForText(text: string): number {
    const id = this.byText.get(text);
    if (id !== undefined) return id;
    const bytes = Buffer.from(text, 'utf8');
    return this.add(text, bytes, fnv1a(bytes, 0, bytes.length));
  }

  /** {@link lookupBytes} for a label that is already a string (JSON Lines, Parquet). */
  lookupText(text: string, softLimit: number): number {
    const id = this.byText.get(text);
    if (id !== undefined) return id;
    if (this.labels.length >= softLimit && softLimit < this.limit) return NOT_TRACKED;
    return this.idForText(text);
  }

  idForBytes(buf: Uint8Array, start: number, end: number): number {
    return this.lookupBytes(buf, start, end, this.limit);
  }

  /**
   * The id of the label in bytes [start, end); a new label gets an id only while the dictionary holds fewer
   * than `softLimit` labels, and is {@link NOT_TRACKED} past it (the hard limit still throws).
   */
  lookupBytes(buf: Uint8Array, start: number, end: number, softLimit: number): number {
    const hash = fnv1a(buf, start, end);
    const table = this.table;
    const mask = table.length - 1;
    let slot = hash & mask;
    for (let entry = table[slot]!; entry !== 0; entry = table[slot]!) {
      const id = entry - 1;
      if (this.hashes[id] === hash && sameBytes(this.encoded[id]!, buf, start, end)) return id;
      slot = (slot + 1) & mask;
    }
    if (this.labels.length >= softLimit && softLimit < this.limit) return NOT_TRACKED;
    // A copy (`new Uint8Array`, not `slice`, which is a view on a Buffer): the caller reuses its chunk, and
    // a view would keep the whole chunk alive.
    return this.add(utf8.decode(buf.subarray(start, end)), new Uint8Array(buf.subarray(start, end)), hash);
  }

  private add(text: string, bytes: Uint8Array, hash: number): number {
    const id = this.labels.length;
    if (id >= this.limit) throw new ValueError(this.tooMany);
    this.labels.push(text);
    this.byText.set(text, id);
    this.encoded.push(bytes);
    if (id >= this.hashes.length) {
      const grown = new Int32Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    this.hashes[id] = hash;
    if ((id + 1) * 2 > this.table.length) this.rehash(this.table.length * 2);
    else this.insert(id);
    return id;
  }

  private insert(id: number): void {
    const mask = this.table.length - 1;
    let slot = this.hashes[id]! & mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & mask;
    this.table[slot] = id + 1;
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    for (let id = 0; id < this.labels.length; id++) this.insert(id);
  }
}

function fnv1a(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash;
}

function sameBytes(known: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (known.length !== end - start) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== buf[start + i]) return false;
  return true;
}
