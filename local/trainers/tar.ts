import { ModelFormatError } from './errors.ts';

/**
 * A minimal POSIX ustar writer and reader, enough for SageMaker's `model.tar.gz`: regular files only, names
 * up to 100 bytes (no prefix field), no links, no PAX headers. Readers like GNU tar and Python's tarfile
 * accept what it writes.
 */

const BLOCK = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A file to put in an archive. */
export interface TarEntry {
  name: string;
  data: Uint8Array;
  /** Modification time in seconds since the epoch; fixed by default so archives are reproducible. */
  mtime?: number;
}

/** Writes `value` as zero-padded octal filling `length − 1` bytes and a NUL at `offset`. */
function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  const text = value.toString(8).padStart(length - 1, '0');
  if (text.length > length - 1) throw new RangeError(`${value} does not fit a ${length}-byte tar field`);
  header.set(encoder.encode(text), offset);
  header[offset + length - 1] = 0;
}

function checksum(header: Uint8Array): number {
  let sum = 0;
  // The checksum field itself counts as eight spaces.
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum;
}

/**
 * The bytes of a tar archive holding `entries` as regular files (mode 0644, owner 0), ending with the two
 * zero blocks of the format.
 */
export function writeTar(entries: readonly TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const name = encoder.encode(entry.name);
    if (name.length === 0 || name.length > 100) {
      throw new RangeError(`tar entry name must be 1 to 100 bytes: ${JSON.stringify(entry.name)}`);
    }
    const header = new Uint8Array(BLOCK);
    header.set(name, 0);
    writeOctal(header, 100, 8, 0o644);
    writeOctal(header, 108, 8, 0);
    writeOctal(header, 116, 8, 0);
    writeOctal(header, 124, 12, entry.data.length);
    writeOctal(header, 136, 12, entry.mtime ?? 0);
    header[156] = 0x30; // '0': a regular file
    header.set(encoder.encode('ustar\u0000'), 257);
    header.set(encoder.encode('00'), 263);
    // Six octal digits, a NUL and a space, as the format's reference implementation writes it.
    header.set(encoder.encode(`${checksum(header).toString(8).padStart(6, '0')}\u0000 `), 148);
    parts.push(header, entry.data);
    const padding = (BLOCK - (entry.data.length % BLOCK)) % BLOCK;
    if (padding > 0) parts.push(new Uint8Array(padding));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const archive = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    archive.set(part, offset);
    offset += part.length;
  }
  return archive;
}

function readString(header: Uint8Array, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return decoder.decode(end < 0 ? field : field.subarray(0, end));
}

function readOctal(header: Uint8Array, offset: number, length: number): number {
  const text = readString(header, offset, length).trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

/**
 * The regular files of a tar archive by name (`prefix/name` for ustar names split in two); directories
 * and other entry types are skipped.
 * @throws ModelFormatError when a header's checksum is wrong or the archive ends inside a file.
 */
export function readTar(archive: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    if (readOctal(header, 148, 8) !== checksum(header)) {
      throw new ModelFormatError(`tar header at byte ${offset} has a wrong checksum: not a tar archive?`);
    }
    const size = readOctal(header, 124, 12);
    const start = offset + BLOCK;
    if (start + size > archive.length) throw new ModelFormatError(`tar archive ends inside a file`);
    const type = header[156];
    if (type === 0x30 || type === 0) {
      const prefix = readString(header, 345, 155);
      const name = readString(header, 0, 100);
      files.set(prefix === '' ? name : `${prefix}/${name}`, archive.slice(start, start + size));
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}
