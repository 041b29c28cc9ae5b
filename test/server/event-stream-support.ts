import type { LockStreamEvent } from '../../src/protocol/live';

/** One server-sent message as a browser's EventSource would dispatch it, or a comment. */
export type SseMessage =
  | { kind: 'event'; id: string | undefined; event: string; data: string }
  | { kind: 'comment'; text: string }
  | { kind: 'retry'; ms: number };

/**
 * A small SSE reader for tests: parses a body's bytes as they arrive (the WHATWG rules for
 * `event:`, `data:`, `id:`, `retry:` and `:` comments) and waits for what a test expects.
 */
export class SseReader {
  readonly messages: SseMessage[] = [];
  /** Every byte received, as text: the tests search it for what must never be sent. */
  text = '';
  ended = false;
  failed: unknown = null;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private buffer = '';
  private waiters: Array<() => void> = [];
  private readonly decoder = new TextDecoder();

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
    void this.pump();
  }

  /** The `event: lock` messages so far, parsed. */
  get locks(): LockStreamEvent[] {
    return this.messages.flatMap((message) =>
      message.kind === 'event' && message.event === 'lock'
        ? [JSON.parse(message.data) as LockStreamEvent]
        : [],
    );
  }

  /** Resolves once `check` holds over what arrived, or rejects after `timeoutMs`. */
  async until<T>(
    check: (reader: SseReader) => T | undefined | false,
    timeoutMs = 3_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = check(this);
      if (found !== undefined && found !== false) return found;
      if (this.ended)
        throw new Error(`stream ended before the expected message; got:\n${this.text}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting; got:\n${this.text}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for the `count`-th lock event (1-based) and returns it. */
  lockAt(count: number, timeoutMs?: number): Promise<LockStreamEvent> {
    return this.until((reader) => reader.locks[count - 1], timeoutMs);
  }

  cancel(): Promise<void> {
    return this.reader.cancel();
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await this.reader.read();
        if (done) break;
        const chunk = this.decoder.decode(value, { stream: true });
        this.text += chunk;
        this.buffer += chunk;
        this.parse();
        this.wake();
      }
    } catch (error) {
      this.failed = error;
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private parse(): void {
    for (;;) {
      const end = this.buffer.search(/\r\n\r\n|\n\n|\r\r/);
      if (end < 0) return;
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end).replace(/^(\r\n\r\n|\n\n|\r\r)/, '');
      let event = 'message';
      let id: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r\n|\n|\r/)) {
        if (line.startsWith(':')) {
          this.messages.push({ kind: 'comment', text: line.slice(1).trim() });
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
        else if (field === 'id') id = value;
        else if (field === 'retry') this.messages.push({ kind: 'retry', ms: Number(value) });
      }
      if (data.length > 0) this.messages.push({ kind: 'event', id, event, data: data.join('\n') });
    }
  }
}

/** Waits until `check` holds (polling every few ms), or fails after `timeoutMs`. */
export async function eventually(check: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
