// AssemblyScript, not TypeScript: the label tables of the CSV and JSON Lines kernels (csv-lines.as.ts,
// jsonl-lines.as.ts), which import it; each kernel's module holds its own copy.
//
// A label table (one per column that has one, made by the caller, zeroed): open addressing over FNV-1a
// hashes, slots holding label id + 1; per id the offset of its bytes in the table's arena, their length and
// hash; then the arena's used bytes and the arena.
export const TABLE_SLOTS: u32 = 2048;
export const TABLE_LABELS: i32 = 1024;
/** The label of text the caller passes over (missing values): found like others, never counted. */
export const MISSING_LABEL: i32 = TABLE_LABELS - 1;
const ARENA_BYTES: i32 = 16384;
const OFFSETS_AT: usize = 4 * TABLE_SLOTS;
const LENGTHS_AT: usize = OFFSETS_AT + 4 * TABLE_LABELS;
const HASHES_AT: usize = LENGTHS_AT + 4 * TABLE_LABELS;
const USED_AT: usize = HASHES_AT + 4 * TABLE_LABELS;
const ARENA_AT: usize = USED_AT + 8;
/** Per label, the fields counted since the caller last took the counts (see `countLabels` of scanLines). */
export const COUNTS_AT: usize = ARENA_AT + ARENA_BYTES;

/** Bytes of one label table. */
export function tableBytes(): i32 {
  return <i32>COUNTS_AT + 4 * TABLE_LABELS;
}

/** Where a table's label counts start: one i32 per label id. */
export function countsOffset(): i32 {
  return <i32>COUNTS_AT;
}

export function fnv1a(ptr: usize, length: i32): u32 {
  let hash: u32 = 0x811c9dc5;
  for (let k = 0; k < length; k++) hash = (hash ^ load<u8>(ptr + k)) * 0x01000193;
  return hash;
}

/** The id of the label with bytes [ptr, ptr + length) in `table`, or -1. */
export function find(table: usize, ptr: usize, length: i32, hash: u32): i32 {
  let slot = hash & (TABLE_SLOTS - 1);
  while (true) {
    const entry = load<i32>(table + ((<usize>slot) << 2));
    if (entry === 0) return -1;
    const id = entry - 1;
    const at = (<usize>id) << 2;
    if (
      load<u32>(table + HASHES_AT + at) === hash &&
      load<i32>(table + LENGTHS_AT + at) === length &&
      memory.compare(table + ARENA_AT + <usize>load<i32>(table + OFFSETS_AT + at), ptr, length) === 0
    ) {
      return id;
    }
    slot = (slot + 1) & (TABLE_SLOTS - 1);
  }
}

/** The label of the bytes [ptr, ptr + length) in `table` (0: the column has none), or -1. */
export function labelOf(table: usize, ptr: usize, length: i32): i32 {
  return table === 0 ? -1 : find(table, ptr, length, fnv1a(ptr, length));
}

/** Counts one more field of `label` in `table` (none for -1 and for the missing values' label). */
export function countLabel(table: usize, label: i32): void {
  if (label < 0 || label === MISSING_LABEL) return;
  const counted = table + COUNTS_AT + ((<usize>label) << 2);
  store<i32>(counted, load<i32>(counted) + 1);
}

/** Adds label `id` with bytes [ptr, ptr + length) to `table`; false when the table has no room for it. */
export function register(table: usize, ptr: usize, length: i32, id: i32): bool {
  if (id < 0 || id >= TABLE_LABELS) return false;
  const used = load<i32>(table + USED_AT);
  if (used + length > ARENA_BYTES) return false;
  const hash = fnv1a(ptr, length);
  if (find(table, ptr, length, hash) >= 0) return true;
  memory.copy(table + ARENA_AT + <usize>used, ptr, length);
  const at = (<usize>id) << 2;
  store<i32>(table + OFFSETS_AT + at, used);
  store<i32>(table + LENGTHS_AT + at, length);
  store<u32>(table + HASHES_AT + at, hash);
  store<i32>(table + USED_AT, used + length);
  let slot = hash & (TABLE_SLOTS - 1);
  while (load<i32>(table + ((<usize>slot) << 2)) !== 0) slot = (slot + 1) & (TABLE_SLOTS - 1);
  store<i32>(table + ((<usize>slot) << 2), id + 1);
  return true;
}
