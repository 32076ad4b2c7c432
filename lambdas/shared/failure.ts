/** Longest error message kept in history items and dead-letter attributes. */
export const MAX_ERROR_MESSAGE_CHARS = 1000;

/**
 * The error as history items and dead-letter attributes hold it: its name and one line of message, cut to
 * {@link MAX_ERROR_MESSAGE_CHARS}. A thrown value that is not an Error is described as `Error` with its text.
 */
export function describeFailure(error: unknown): { name: string; message: string } {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  const line = message.replace(/\s+/g, ' ').trim();
  return {
    name,
    message: line.length > MAX_ERROR_MESSAGE_CHARS ? `${line.slice(0, MAX_ERROR_MESSAGE_CHARS - 1)}…` : line,
  };
}
