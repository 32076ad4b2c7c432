/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Compiled modules by their base64 text: each is compiled once per thread. */
const compiled = new Map<string, object>();

/** A new instance of a kernel (its own memory); `name` names it when it aborts. */
export function wasmInstance<Exports>(base64: string, name: string): Exports {
  let module = compiled.get(base64);
  if (module === undefined) {
    module = new wasm.Module(Buffer.from(base64, 'base64'));
    compiled.set(base64, module);
  }
  const abort = (): never => {
    throw new Error(`the ${name} aborted`);
  };
  return new wasm.Instance(module, { env: { abort } }).exports as Exports;
}

/** Grows `memory` so that it reaches `end` bytes; true when it grew (views of its old buffer are detached). */
export function reserveMemory(memory: WasmMemory, end: number): boolean {
  if (end <= memory.buffer.byteLength) return false;
  memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
  return true;
}
