/** One dispatched server-sent event. `id` is the stream's last event ID when it was dispatched. */
export interface SseMessage {
  event: string;
  data: string;
  id: string;
}

/**
 * The part of the WHATWG event-stream parser the live channel needs: `event`, `data` (lines
 * joined with `\n`), `id`, `retry`, comments, and CRLF, LF or CR line endings in text that
 * arrives in pieces split anywhere. Decoding bytes to text (UTF-8, split characters) is the
 * caller's `TextDecoder`'s job. Returns the function to feed each decoded piece to.
 */
export function createSseParser(
  onMessage: (message: SseMessage) => void,
  onRetry: (ms: number) => void,
): (text: string) => void {
  let rest = '';
  let event = '';
  let data = '';
  let id = '';
  // A piece that ended with CR: an LF starting the next piece belongs to that line ending.
  let afterCR = false;

  const line = (text: string) => {
    if (text === '') {
      if (data) onMessage({ event: event || 'message', data: data.slice(0, -1), id });
      event = data = '';
      return;
    }
    if (text[0] === ':') return;
    const [, name, value = ''] = /^([^:]*):? ?(.*)$/s.exec(text) as RegExpExecArray;
    if (name === 'event') event = value;
    else if (name === 'data') data += `${value}\n`;
    else if (name === 'id' && !value.includes('\0')) id = value;
    else if (name === 'retry' && /^\d+$/.test(value)) onRetry(+value);
  };

  return (text) => {
    // A decoder gives '' for a piece that holds only part of a character: it says nothing.
    if (!text) return;
    if (afterCR && text[0] === '\n') text = text.slice(1);
    afterCR = text.endsWith('\r');
    const lines = (rest + text).split(/\r\n?|\n/);
    rest = lines.pop() as string;
    lines.forEach(line);
  };
}
