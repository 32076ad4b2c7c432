/**
 * Calls `handle` with each line of a UTF-8 byte stream, in order, without its `\n` (a last line without one
 * too). Bytes that are not UTF-8 become U+FFFD rather than an error, so a reader can count the line as a bad
 * record with its line number instead of failing the whole file.
 *
 * @example
 * ```ts
 * await forEachLine(stream, (text) => records.push(JSON.parse(text)));
 * ```
 */
export async function forEachLine(
  stream: AsyncIterable<Uint8Array>,
  handle: (text: string) => void,
): Promise<void> {
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let pending = '';
  for await (const chunk of stream) {
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      handle(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending !== '') handle(pending);
}
