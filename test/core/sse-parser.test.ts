import { describe, expect, it } from 'vitest';
import { createSseParser, type SseMessage } from '../../src/core/sse-parser';

/** Feeds `pieces` to a fresh parser and returns what it dispatched. */
function parse(pieces: readonly string[]) {
  const messages: SseMessage[] = [];
  const retries: number[] = [];
  const push = createSseParser(
    (message) => messages.push(message),
    (ms) => retries.push(ms),
  );
  for (const piece of pieces) push(piece);
  return { messages, retries };
}

/** Every way of cutting `text` in two, plus one character at a time. */
function cuts(text: string): string[][] {
  const ways = [[...text]];
  for (let at = 0; at <= text.length; at += 1) ways.push([text.slice(0, at), text.slice(at)]);
  return ways;
}

const STREAM =
  'retry: 3000\n\n: ping\n\nid: 1\nevent: lock\ndata: {"a":1}\n\n' +
  'event: lock\r\ndata: first\r\ndata: second\r\n\r\n' +
  'id: 7\rdata:no space\r\rdata:  two spaces\n\n';

describe('createSseParser', () => {
  it('reads event, data, id and retry lines', () => {
    expect(parse([STREAM])).toEqual({
      messages: [
        { event: 'lock', data: '{"a":1}', id: '1' },
        { event: 'lock', data: 'first\nsecond', id: '1' },
        { event: 'message', data: 'no space', id: '7' },
        { event: 'message', data: ' two spaces', id: '7' },
      ],
      retries: [3000],
    });
  });

  it('gives the same messages however the text is cut (CR, LF and CRLF included)', () => {
    const whole = parse([STREAM]);
    for (const pieces of cuts(STREAM)) expect(parse(pieces)).toEqual(whole);
  });

  it('takes a CR at the end of one piece and an LF at the start of the next as one line end', () => {
    // Were they two, the empty line between would dispatch "a" alone and "b" as a second message.
    expect(parse(['data: a\r', '\ndata: b\r', '\n\r', '\n']).messages).toEqual([
      { event: 'message', data: 'a\nb', id: '' },
    ]);
    // An empty piece (a decoder holding half a character) changes nothing.
    expect(parse(['data: a\r', '', '\ndata: b\n\n']).messages).toEqual([
      { event: 'message', data: 'a\nb', id: '' },
    ]);
  });

  it('ignores comments, unknown fields and a bad retry; dispatches nothing without data', () => {
    const { messages, retries } = parse([
      ': comment\n:\nevent: lock\n\n',
      'retry: 1.5\nretry: soon\nfoo: bar\nid: 3\n\n',
      'data\n\n',
    ]);
    // `data` alone (no colon) is a data field with an empty value: one empty message.
    expect(messages).toEqual([{ event: 'message', data: '', id: '3' }]);
    expect(retries).toEqual([]);
  });

  it('resets the event name after each message and keeps the last id', () => {
    const { messages } = parse(['event: lock\ndata: 1\n\ndata: 2\nid: a\0b\n\n']);
    expect(messages).toEqual([
      { event: 'lock', data: '1', id: '' },
      // An id holding NUL is ignored, as the standard says.
      { event: 'message', data: '2', id: '' },
    ]);
  });

  it('keeps an unfinished message until its empty line arrives', () => {
    const messages: SseMessage[] = [];
    const push = createSseParser(
      (message) => messages.push(message),
      () => {},
    );
    push('data: x\n');
    push('data: y');
    expect(messages).toEqual([]);
    push('\n\n');
    expect(messages).toEqual([{ event: 'message', data: 'x\ny', id: '' }]);
  });

  it('keeps U+2028 and colons inside a value', () => {
    expect(parse(['data: a\u2028b: c\n\n']).messages).toEqual([
      { event: 'message', data: 'a\u2028b: c', id: '' },
    ]);
  });
});
