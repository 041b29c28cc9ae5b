import { expect, userEvent, waitFor, within } from 'storybook/test';

const TABBABLE = 'a[href], button:not([disabled]), input, textarea, select, [tabindex="0"]';

/** The story's own tab's lock status, as its status line shows it. */
export async function expectLockStatus(canvasElement: HTMLElement, status: string): Promise<void> {
  const line = await within(canvasElement).findByTestId('lock-status');
  await waitFor(() => expect(line).toHaveAttribute('data-status', status), { timeout: 5_000 });
}

/** The editor's body field, found even while it sits in an `inert` subtree. */
export function editorBody(container: HTMLElement): HTMLTextAreaElement {
  const body = container.querySelector<HTMLTextAreaElement>('textarea[name="body"]');
  if (!body) throw new Error('[page-lock] [stories] No editor body in this story');
  return body;
}

/**
 * The overlay is an accessible modal over the editor: focus moves into the dialog, Tab and
 * Shift+Tab cycle through its buttons and never leave it, and the editor behind is `inert`: a
 * click and typing into it change nothing.
 */
export async function expectModalOverEditor(canvasElement: HTMLElement): Promise<HTMLElement> {
  const dialog = await within(canvasElement).findByRole('dialog', {}, { timeout: 5_000 });
  await expect(dialog).toHaveAttribute('aria-modal', 'true');
  await waitFor(() => expect(dialog).toContainElement(document.activeElement as HTMLElement));

  const tabbable = Array.from(dialog.querySelectorAll<HTMLElement>(TABBABLE));
  await expect(tabbable.length).toBeGreaterThan(0);
  const first = tabbable[0] as HTMLElement;
  first.focus();
  for (const expected of [...tabbable.slice(1), first]) {
    await userEvent.tab();
    await expect(document.activeElement).toBe(expected);
  }
  for (const expected of [...tabbable].reverse()) {
    await userEvent.tab({ shift: true });
    await expect(document.activeElement).toBe(expected);
  }

  const body = editorBody(canvasElement);
  await expect(body.closest('[inert]')).not.toBeNull();
  const before = body.value;
  await userEvent.click(body);
  // Letters only: a space or Enter would press the dialog's focused button, as it would for a user.
  await userEvent.keyboard('typed');
  await expect(body.value).toBe(before);
  await expect(document.activeElement).not.toBe(body);
  await expect(dialog).toContainElement(document.activeElement as HTMLElement);
  return dialog;
}

/**
 * After a lost lock: a non-modal dialog above the editor says what happened, and the editor
 * stays on screen, selectable (so the text can be copied) but read-only: typing changes nothing.
 */
export async function expectReadOnlyEditor(canvasElement: HTMLElement): Promise<HTMLElement> {
  const dialog = await within(canvasElement).findByRole('dialog', {}, { timeout: 5_000 });
  await expect(dialog).not.toHaveAttribute('aria-modal');
  await expect(dialog.closest('.page-lock-overlay')).toHaveAttribute('data-mode', 'read-only');

  const body = editorBody(canvasElement);
  await expect(body.closest('[inert]')).toBeNull();
  await expect(body.closest('[data-read-only]')).not.toBeNull();
  const before = body.value;
  await userEvent.click(body);
  await userEvent.keyboard('typed after losing the lock');
  await expect(body.value).toBe(before);
  body.select();
  await expect(body.selectionEnd - body.selectionStart).toBe(before.length);
  return dialog;
}

/** Nothing covers the editor: no dialog, nothing inert, and typing reaches it. */
export async function expectEditorUsable(canvasElement: HTMLElement): Promise<void> {
  await expect(within(canvasElement).queryByRole('dialog')).toBeNull();
  const body = editorBody(canvasElement);
  await expect(body.closest('[inert]')).toBeNull();
  await userEvent.click(body);
  await userEvent.keyboard(' Closed on holidays.');
  await expect(body.value).toMatch(/Closed on holidays\.$/);
}
