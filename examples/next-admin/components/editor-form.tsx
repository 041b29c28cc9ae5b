'use client';

import { LOCK_TOKEN_HEADER, type PageLockState, usePageLock } from 'page-lock';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { formatClock } from './format-clock';

/** What the editor needs of a page. */
export interface EditablePage {
  id: number;
  title: string;
  body: string;
  /** The version loaded: saves send it, and the server refuses them if the page moved on. */
  version: number;
  updatedAt: number | null;
  updatedBy: string | null;
}

/** Idle release: how long without input before "Are you still editing?", and how long it shows. */
export interface EditorIdleSettings {
  /** ms without input in the editor; off when not given. */
  idleTimeout?: number;
  /** ms the warning shows before the page is released; the library's default when not given. */
  idleWarning?: number;
}

type SaveState =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved'; at: number }
  | { kind: 'refused'; message: string }
  | { kind: 'conflict' }
  | { kind: 'failed'; message: string };

/** What a save sends and what the server answers, before the form decides what to show. */
type SaveAnswer =
  | { ok: true; version: number; savedAt: number }
  | { ok: false; response: Response | null };

/**
 * The title and body of a page. A save carries the lock's token (the server refuses a stale
 * holder, 423) and the version this editor loaded (the server refuses a save over a newer
 * version, 409). Either way the text stays on screen and the lock state is brought up to date.
 *
 * When the page goes to someone else without a save (the holder hands it over to one who asked,
 * or it is released because they were away), the current text is saved first, so whoever gets
 * the page next opens on it. A tab that waited for the page loads the latest text once it is
 * given the page, and stays read-only until it has it.
 */
export function EditorForm({ page, idle }: { page: EditablePage; idle?: EditorIdleSettings }) {
  const [title, setTitle] = useState(page.title);
  const [body, setBody] = useState(page.body);
  const [version, setVersion] = useState(page.version);
  const [save, setSave] = useState<SaveState>({ kind: 'idle' });
  const [loadingLatest, setLoadingLatest] = useState(false);
  // The text as last loaded or saved: a hand-over with nothing new to save sends nothing.
  const saved = useRef({ title: page.title, body: page.body });
  const waitedForPage = useRef(false);

  async function send(
    token: string | null,
    edit: { title: string; body: string },
  ): Promise<SaveAnswer> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers[LOCK_TOKEN_HEADER] = token;
    let response: Response;
    try {
      response = await fetch(`/api/pages/${page.id}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ ...edit, version }),
      });
    } catch {
      return { ok: false, response: null };
    }
    if (!response.ok) return { ok: false, response };
    const answer = (await response.json()) as { version: number; savedAt: number };
    saved.current = edit;
    setVersion(answer.version);
    setSave({ kind: 'saved', at: answer.savedAt });
    return { ok: true, ...answer };
  }

  /**
   * Saves what is on screen before the page leaves this tab (`onHandOver`, `onIdle`). Throwing
   * keeps a hand-over from happening: the page stays here, with the text, rather than go to
   * someone who would open on an older version.
   */
  async function saveBeforeLeaving(token: string | null) {
    const edit = { title, body };
    if (edit.title === saved.current.title && edit.body === saved.current.body) return;
    setSave({ kind: 'saving' });
    const answer = await send(token, edit);
    if (answer.ok) return;
    const status = answer.response?.status;
    setSave({
      kind: 'failed',
      message:
        status === undefined
          ? 'The server could not be reached.'
          : `The server answered ${status} when saving your text.`,
    });
    throw new Error(`[page-lock] [demo] The text of page ${page.id} could not be saved`);
  }

  /** Given the page after waiting for it: the text on screen may be older than the last save. */
  async function loadLatest() {
    setLoadingLatest(true);
    try {
      const response = await fetch(`/api/pages/${page.id}`, { cache: 'no-store' });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const latest = (await response.json()) as { title: string; body: string; version: number };
      if (latest.version > version) {
        setTitle(latest.title);
        setBody(latest.body);
        setVersion(latest.version);
        saved.current = { title: latest.title, body: latest.body };
      }
    } catch {
      setSave({
        kind: 'failed',
        message: 'The latest version could not be loaded; reload the page before you edit.',
      });
    } finally {
      setLoadingLatest(false);
    }
  }

  const lock = usePageLock(undefined, {
    ...idle,
    onHandOver: (state) => saveBeforeLeaving(state.token),
    onIdle: (state) => saveBeforeLeaving(state.token),
    onAcquired: () => {
      if (waitedForPage.current) void loadLatest();
    },
  });
  useEffect(() => {
    if (lock.status === 'locked' && !lock.isSelf) waitedForPage.current = true;
  }, [lock.status, lock.isSelf]);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSave({ kind: 'saving' });
    const answer = await send(lock.token, { title, body });
    if (answer.ok) return;
    const { response } = answer;
    if (response === null) {
      setSave({ kind: 'failed', message: 'The server could not be reached.' });
    } else if (response.status === 423) {
      setSave({ kind: 'refused', message: refusalMessage(await response.json()) });
      // The lock state within one round trip, not at the next poll: the overlay says what
      // happened (taken over, expired, …) while the text stays on screen.
      await lock.recheck();
    } else if (response.status === 409) {
      setSave({ kind: 'conflict' });
      await lock.recheck();
    } else {
      setSave({ kind: 'failed', message: `The server answered ${response.status}.` });
    }
  }

  return (
    <form className="demo-editor" onSubmit={onSubmit} aria-label={`Edit page ${page.id}`}>
      <LockStatusLine lock={lock} />
      <label>
        Title
        <input
          name="title"
          value={title}
          readOnly={loadingLatest}
          onChange={(event) => setTitle(event.target.value)}
        />
      </label>
      <label>
        Body
        <textarea
          name="body"
          rows={10}
          value={body}
          readOnly={loadingLatest}
          onChange={(event) => setBody(event.target.value)}
        />
      </label>
      <div className="demo-editor-actions">
        <button type="submit" disabled={!lock.isOwner || loadingLatest || save.kind === 'saving'}>
          Save
        </button>
        <SaveMessage save={save} text={`${title}\n\n${body}`} />
      </div>
      {page.updatedAt ? (
        <p className="demo-muted">
          Last saved by {page.updatedBy} at{' '}
          {/* The server's clock format may differ from the browser's: the browser's wins. */}
          <time dateTime={new Date(page.updatedAt).toISOString()} suppressHydrationWarning>
            {formatClock(page.updatedAt)}
          </time>
          .
        </p>
      ) : null}
    </form>
  );
}

function LockStatusLine({ lock }: { lock: PageLockState }) {
  return (
    <p className="demo-lock-status" data-testid="lock-status" data-status={lock.status}>
      {statusText(lock)}
    </p>
  );
}

function statusText(lock: PageLockState): string {
  switch (lock.status) {
    case 'held':
      return 'You are editing this page; others see it locked.';
    case 'idle':
    case 'acquiring':
      return 'Reserving this page for you…';
    case 'locked':
      return lock.isSelf
        ? 'You are editing this page in another tab.'
        : `${lock.holder?.name ?? 'Someone'} is editing this page.`;
    case 'free':
      return 'This page is free.';
    case 'lost':
      return 'This page is no longer reserved for you.';
    case 'error':
      return 'The lock server cannot be reached.';
  }
}

function SaveMessage({ save, text }: { save: SaveState; text: string }) {
  switch (save.kind) {
    case 'idle':
      return null;
    case 'saving':
      return <span className="demo-muted">Saving…</span>;
    case 'saved':
      return (
        <span role="status" data-testid="save-message">
          Saved at {formatClock(save.at)}.
        </span>
      );
    case 'conflict':
      return (
        <span role="alert" className="demo-error" data-testid="save-message">
          This page was changed since you opened it, so your save was refused. Your text is still
          here: copy it, then reload the page to see the saved version. <CopyButton text={text} />{' '}
          <button type="button" onClick={() => window.location.reload()}>
            Reload the page
          </button>
        </span>
      );
    case 'refused':
    case 'failed':
      return (
        <span role="alert" className="demo-error" data-testid="save-message">
          Not saved: {save.message} Your text is still here: copy it before you leave.{' '}
          <CopyButton text={text} />
        </span>
      );
  }
}

/** Copies the unsaved title and body to the clipboard (a secure context: localhost, https). */
function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  }
  return (
    <button type="button" onClick={copy}>
      {copied === true
        ? 'Copied'
        : copied === false
          ? 'Copy failed: select the text'
          : 'Copy my text'}
    </button>
  );
}

function refusalMessage(answer: unknown): string {
  const { lock } = (answer ?? {}) as { lock?: { holder?: { name?: string } } | null };
  const holder = lock?.holder?.name;
  return holder
    ? `${holder} is editing this page now, so the server refused your save.`
    : 'you no longer hold the lock on this page, so the server refused your save.';
}
