/** The first bytes of a stream, and the whole stream again (those bytes included) to read from the start. */
export interface Peeked {
  /** Up to the requested number of bytes; fewer only when the stream is shorter. */
  head: Uint8Array;
  /** Replays the chunks read to fill `head`, then continues with the rest of the source. Iterate once. */
  stream: AsyncIterable<Uint8Array>;
}

/**
 * Reads chunks until `count` bytes are at hand, without losing them: format and compression detection look
 * at the first bytes, and the parser then reads the stream from its beginning.
 */
export async function peek(source: AsyncIterable<Uint8Array>, count: number): Promise<Peeked> {
  const iterator = source[Symbol.asyncIterator]();
  const chunks: Uint8Array[] = [];
  let length = 0;
  let done = false;
  try {
    while (length < count) {
      const next = await iterator.next();
      if (next.done) {
        done = true;
        break;
      }
      if (next.value.length === 0) continue;
      chunks.push(next.value);
      length += next.value.length;
    }
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  const head = new Uint8Array(Math.min(count, length));
  let filled = 0;
  for (const chunk of chunks) {
    if (filled === head.length) break;
    const take = Math.min(chunk.length, head.length - filled);
    head.set(chunk.subarray(0, take), filled);
    filled += take;
  }
  return { head, stream: replay(chunks, iterator, done) };
}

async function* replay(
  chunks: Uint8Array[],
  iterator: AsyncIterator<Uint8Array>,
  done: boolean,
): AsyncGenerator<Uint8Array> {
  let finished = done;
  try {
    while (chunks.length > 0) yield chunks.shift()!;
    while (!finished) {
      const next = await iterator.next();
      if (next.done) {
        finished = true;
        break;
      }
      yield next.value;
    }
  } finally {
    // Closes the source (a file stream, say) when the reader stops early or fails.
    if (!finished) await iterator.return?.();
  }
}
