import { ValueError } from '../errors.ts';

const utf8 = new TextDecoder('utf-8');

/**
 * Gives each distinct category of one column a small integer id. CSV fields are looked up by their bytes
 * (an FNV-1a hash, confirmed by comparing bytes) so that repeated categories never allocate a string.
 */
export class CategoryDictionary {
  readonly labels: string[] = [];
  private readonly byText = new Map<string, number>();
  private readonly byHash = new Map<number, number | number[]>();
  private readonly encoded: Uint8Array[] = [];
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
    return id === undefined ? this.add(text, Buffer.from(text, 'utf8')) : id;
  }

  idForBytes(buf: Uint8Array, start: number, end: number): number {
    let hash = 0x811c9dc5;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193);
    const found = this.byHash.get(hash);
    if (found !== undefined) {
      if (typeof found === 'number') {
        if (sameBytes(this.encoded[found]!, buf, start, end)) return found;
      } else {
        for (const id of found) if (sameBytes(this.encoded[id]!, buf, start, end)) return id;
      }
    }
    const text = utf8.decode(buf.subarray(start, end));
    const known = this.byText.get(text);
    return known === undefined ? this.add(text, buf.slice(start, end), hash) : known;
  }

  private add(text: string, bytes: Uint8Array, hash?: number): number {
    const id = this.labels.length;
    if (id >= this.limit) {
      throw new ValueError(this.tooMany);
    }
    this.labels.push(text);
    this.byText.set(text, id);
    this.encoded.push(bytes);
    const h = hash ?? fnv1a(bytes);
    const existing = this.byHash.get(h);
    if (existing === undefined) this.byHash.set(h, id);
    else if (typeof existing === 'number') this.byHash.set(h, [existing, id]);
    else existing.push(id);
    return id;
  }
}

function fnv1a(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  return hash;
}

function sameBytes(known: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  if (known.length !== end - start) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== buf[start + i]) return false;
  return true;
}
