import { reserveMemory, type WasmMemory, wasmInstance } from '../wasm-instance.ts';
import { SNAPPY_WASM } from './wasm/snappy.wasm.ts';

interface Exports {
  memory: WasmMemory;
  heapBase(): number;
  uncompress(input: number, inputLength: number, output: number, outputLength: number): number;
}

/**
 * Snappy decompression in WebAssembly (source: wasm/snappy.as.ts), one instance per thread: about four
 * times hyparquet's JavaScript decoder on Parquet pages. The input is copied into the kernel's memory and the
 * output out of it.
 */
class SnappyKernel {
  private readonly exports = wasmInstance<Exports>(SNAPPY_WASM, 'snappy kernel');
  private readonly base = Math.ceil(this.exports.heapBase() / 16) * 16;
  private bytes = new Uint8Array(0);

  /**
   * The `size` bytes `input` decompresses to, as a view of the kernel's memory that the next call
   * overwrites; throws when the input is corrupt or of another size.
   */
  uncompress(input: Uint8Array, size: number): Uint8Array {
    const inputAt = this.base;
    const outputAt = inputAt + Math.ceil(input.length / 16) * 16;
    const memory = this.exports.memory;
    if (reserveMemory(memory, outputAt + size) || this.bytes.buffer !== memory.buffer) {
      this.bytes = new Uint8Array(memory.buffer);
    }
    this.bytes.set(input, inputAt);
    const written = this.exports.uncompress(inputAt, input.length, outputAt, size);
    if (written !== size) throw new Error('corrupt Snappy data');
    return this.bytes.subarray(outputAt, outputAt + size);
  }
}

let kernel: SnappyKernel | undefined;

/**
 * Decompresses a raw Snappy block of known uncompressed `size` (as Parquet pages give it). The result is valid
 * until the next call on this thread: decode it, or copy it, before decompressing anything else.
 */
export function snappyUncompress(input: Uint8Array, size: number): Uint8Array {
  kernel ??= new SnappyKernel();
  return kernel.uncompress(input, size);
}
