import { act, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { HttpResponse, http } from 'msw';
import type { ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AcquireMode } from '../../src/client/lock-options';
import type { LockAdapter } from '../../src/core/adapter';
import { createHttpLockAdapter } from '../../src/core/http-adapter';
import { PROTOCOL_VERSION, PROTOCOL_VERSION_HEADER } from '../../src/protocol/protocol';
import { LockOverlay } from '../../src/react/overlay';
import { PageLockProvider } from '../../src/react/page-lock-provider';
import { usePageLock } from '../../src/react/use-page-lock';
import { alice, baseUrl, bob, createTestQueryClient, setupLockNetwork } from './lock-harness';

const network = setupLockNetwork();

afterEach(() => {
  vi.restoreAllMocks();
});

/** Holds every acquire (POST without a token) until `open()`, then lets it through to the server. */
function holdAcquires(): { open: () => void } {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  network.msw.use(
    http.post(`${baseUrl}/:id`, async ({ request }) => {
      const body = (await request.clone().json()) as { token?: string };
      if (body.token === undefined) await gate;
      // Nothing returned: the request goes on to the lock server's own handlers.
    }),
  );
  return { open };
}

function Status(): ReactNode {
  const { status, isChecking } = usePageLock();
  return <output data-testid={`status-${status}`}>{isChecking ? 'checking' : status}</output>;
}

function Tab(props: {
  adapter: LockAdapter;
  clientId: string;
  acquire?: AcquireMode;
  blockEditing?: boolean;
  pollInterval?: number;
  label?: string;
}): ReactNode {
  return (
    <PageLockProvider
      adapter={props.adapter}
      resourceId="page:1"
      clientId={props.clientId}
      queryClient={createTestQueryClient()}
      pollInterval={props.pollInterval ?? 50}
      acquire={props.acquire}
      blockEditing={props.blockEditing}
    >
      <Status />
      <section aria-label={props.label ?? 'tab'}>
        <LockOverlay locale="en-GB" timeZone="UTC">
          <textarea aria-label="Page body" defaultValue="Opening hours" />
        </LockOverlay>
      </section>
    </PageLockProvider>
  );
}

const content = (root: ParentNode = document) =>
  root.querySelector('.page-lock-overlay__content') as HTMLElement;
const live = (root: ParentNode = document) =>
  root.querySelector('.page-lock-overlay__live') as HTMLElement;
const root = () => document.querySelector('.page-lock-overlay') as HTMLElement;

/** A manual-mode editor's lock button: it shows the status and whether it is checking. */
function Manual(): ReactNode {
  const lock = usePageLock();
  return (
    <button type="button" onClick={lock.acquire}>
      Lock ({lock.status}, {String(lock.isChecking)})
    </button>
  );
}

describe('while the first acquire is on its way (mount mode)', () => {
  it('keeps the editor inert under a quiet status, not a dialog, from the very first render', async () => {
    const gate = holdAcquires();
    const html = renderToString(<Tab adapter={network.adapterFor(alice)} clientId="alice-tab" />);
    expect(html).toMatch(/class="page-lock-overlay__content" inert=""/);
    expect(html).toContain('Checking who is editing…');

    render(<Tab adapter={network.adapterFor(alice)} clientId="alice-tab" />);
    await screen.findByTestId('status-acquiring');
    expect(content().hasAttribute('inert')).toBe(true);
    expect(root().getAttribute('data-mode')).toBe('checking');
    expect(live().textContent).toBe('Checking who is editing…');
    expect(live().getAttribute('aria-live')).toBe('polite');
    expect(root().querySelector('.page-lock-overlay__panel')?.textContent).toBe(
      'Checking who is editing…',
    );
    expect(screen.queryByRole('dialog')).toBeNull();
    // No focus trap: focus elsewhere on the page stays where it is.
    const outside = document.createElement('button');
    document.body.append(outside);
    outside.focus();
    await act(() => new Promise((resolve) => setTimeout(resolve, 20)));
    expect(document.activeElement).toBe(outside);
    outside.remove();

    gate.open();
    await screen.findByTestId('status-held');
    expect(content().hasAttribute('inert')).toBe(false);
    expect(root().getAttribute('data-state')).toBe('hidden');
    // The quiet check is not followed by "You can edit this page now" on every page load.
    expect(live().textContent).toBe('');
  });

  it('goes from checking straight to the block when someone else holds the page', async () => {
    await network.adapterFor(bob).acquire('page:1', { clientId: 'bob-tab' });
    const gate = holdAcquires();
    render(<Tab adapter={network.adapterFor(alice)} clientId="alice-tab" />);
    await screen.findByTestId('status-acquiring');
    expect(content().hasAttribute('inert')).toBe(true);
    gate.open();
    await screen.findByRole('region', { name: /^Bob has been editing this page/ });
    // The editor never became live in between.
    expect(content().hasAttribute('inert')).toBe(true);
  });

  it('leaves manual mode alone: the editor stays usable while acquire() is on its way', async () => {
    const gate = holdAcquires();
    render(
      <PageLockProvider
        adapter={network.adapterFor(alice)}
        resourceId="page:1"
        clientId="alice-tab"
        queryClient={createTestQueryClient()}
        acquire="manual"
      >
        <Manual />
        <LockOverlay>
          <textarea aria-label="Page body" />
        </LockOverlay>
      </PageLockProvider>,
    );
    await userEvent.click(await screen.findByRole('button', { name: /^Lock \(free/ }));
    await screen.findByRole('button', { name: 'Lock (acquiring, false)' });
    expect(content().hasAttribute('inert')).toBe(false);
    expect(live().textContent).not.toMatch(/Checking/);
    gate.open();
    await screen.findByRole('button', { name: 'Lock (held, false)' });
  });

  it('blocks nothing with blockEditing={false}', async () => {
    holdAcquires();
    render(<Tab adapter={network.adapterFor(alice)} clientId="alice-tab" blockEditing={false} />);
    await screen.findByText('checking');
    expect(content().hasAttribute('inert')).toBe(false);
    expect(live().textContent).not.toMatch(/Checking/);
  });
});

const versioned = { [PROTOCOL_VERSION_HEADER]: PROTOCOL_VERSION };
const failWith = (status: number, code: string) => () =>
  HttpResponse.json(
    { error: { code, message: `refused: ${code}` }, now: Date.now() },
    { status, headers: versioned },
  );

describe('each failure has its own words', () => {
  const cases: Array<{
    name: string;
    answer: Parameters<typeof http.all>[1];
    title: string;
    description: RegExp;
    failure: string;
    hint: RegExp;
  }> = [
    {
      name: 'not signed in (401)',
      answer: failWith(401, 'unauthorized'),
      title: 'You are not signed in, so this page cannot be reserved for you.',
      description: /Sign in again/,
      failure: 'unauthorized',
      hint: /getUser\(request\) returned null/,
    },
    {
      name: 'refused as cross-site (403)',
      answer: failWith(403, 'cross-site'),
      title: 'You are not allowed to edit this page.',
      description: /ask an administrator/,
      failure: 'forbidden',
      hint: /Origin with its Host header.*trustProxy.*allowedOrigins/,
    },
    {
      name: 'no lock route at this URL (404, an HTML page)',
      answer: () => new HttpResponse('<!doctype html><h1>404</h1>', { status: 404 }),
      title: 'Editing is unavailable: this page cannot check who else is editing it.',
      description: /not set up correctly/,
      failure: 'not-found',
      hint: /baseUrl.*app\/api\/locks\/\[\[\.\.\.lock\]\]\/route\.ts/,
    },
    {
      name: 'the store is busy (503)',
      answer: failWith(503, 'busy'),
      title: 'The lock server had a problem.',
      description: /Editing is paused/,
      failure: 'server',
      hint: /busy/,
    },
    {
      name: 'offline (no answer)',
      answer: () => HttpResponse.error(),
      title: 'The lock server could not be reached.',
      description: /Editing is paused/,
      failure: 'offline',
      hint: /No answer from the lock server/,
    },
  ];

  it.each(cases)('$name', async ({ answer, title, description, failure, hint }) => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    // A base URL of its own per case: every distinct failure is logged once per page.
    const caseBase = `http://app.test/${failure}/locks`;
    network.msw.use(http.all(`${caseBase}`, answer), http.all(`${caseBase}/*`, answer));
    const adapter = createHttpLockAdapter({ baseUrl: caseBase });
    render(<Tab adapter={adapter} clientId="alice-tab" />);
    const dialog = await screen.findByRole('region', { name: title });
    const describedBy = dialog.getAttribute('aria-describedby') ?? '';
    expect(document.getElementById(describedBy)?.textContent).toMatch(description);
    expect(root().getAttribute('data-failure')).toBe(failure);
    expect(within(dialog).getByRole('button', { name: 'Retry' })).toBeTruthy();
    // Several failed looks later, still one line for this failure, naming the likely fix.
    await act(() => new Promise((resolve) => setTimeout(resolve, 200)));
    const lines = warn.mock.calls.map(([line]) => String(line)).filter((line) => hint.test(line));
    expect(lines).toHaveLength(1);
  });
});
