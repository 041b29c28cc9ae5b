import { expect, userEvent, waitFor, within } from 'storybook/test';

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

/** The overlay's panel, found by the region it is (the editor's own regions have other names). */
async function findPanel(canvasElement: HTMLElement): Promise<HTMLElement> {
  return waitFor(
    () => {
      const panel = canvasElement.querySelector<HTMLElement>(
        '.page-lock-overlay__panel[role], section.page-lock-overlay__panel',
      );
      if (!panel) throw new Error('[page-lock] [stories] No overlay panel yet');
      return panel;
    },
    { timeout: 5_000 },
  );
}

/**
 * The overlay blocks the wrapped editor without being a modal: a labelled region (no
 * `aria-modal`) over an `inert` editor, so a click and typing into it change nothing. Focus the
 * block took from the editor lands on the panel's safe button, but is not held: Tab goes on to
 * the rest of the page.
 */
export async function expectBlockOverEditor(canvasElement: HTMLElement): Promise<HTMLElement> {
  const panel = await findPanel(canvasElement);
  await expect(panel.tagName).toBe('SECTION');
  await expect(panel).toHaveAccessibleName();
  await expect(panel).not.toHaveAttribute('aria-modal');
  await expect(panel.closest('.page-lock-overlay')).toHaveAttribute('data-mode', 'modal');

  const body = editorBody(canvasElement);
  await expect(body.closest('[inert]')).not.toBeNull();
  const before = body.value;
  await userEvent.click(body);
  // Letters only: a space or Enter would press a focused button, as it would for a user.
  await userEvent.keyboard('typed');
  await expect(body.value).toBe(before);
  await expect(document.activeElement).not.toBe(body);

  // The safe button holds focus first (never Take over) ...
  await waitFor(() => expect(panel).toContainElement(document.activeElement as HTMLElement));
  await expect(document.activeElement).not.toHaveAttribute('data-action', 'take-over');
  // ... but is not a trap: the page's own links and buttons take focus and clicks.
  await expectPageUsable(canvasElement);
  return panel;
}

/**
 * After a lost lock: a labelled region above the editor says what happened, and the editor stays
 * on screen, not inert, and read-only to the eye and to assistive tech: its fields are `readonly`,
 * its Save button `aria-disabled`, both dimmed; typing changes nothing, and its text can still be
 * selected (so it can be copied).
 */
export async function expectReadOnlyEditor(canvasElement: HTMLElement): Promise<HTMLElement> {
  const panel = await findPanel(canvasElement);
  await expect(panel).toHaveAccessibleName();
  await expect(panel).not.toHaveAttribute('aria-modal');
  await expect(panel.closest('.page-lock-overlay')).toHaveAttribute('data-mode', 'read-only');

  const body = editorBody(canvasElement);
  await expect(body.closest('[inert]')).toBeNull();
  await expect(body.closest('[data-read-only]')).not.toBeNull();
  await expect(body).toHaveAttribute('readonly');
  await expect(canvasElement.querySelector('input[name="title"]')).toHaveAttribute('readonly');
  const save = within(canvasElement).getByRole('button', { name: 'Save' });
  await expect(save).toHaveAttribute('aria-disabled', 'true');
  // Dimmed: the stylesheet's muted text on the read-only surface, dashed borders.
  await expect(getComputedStyle(body).color).toBe('rgb(87, 96, 106)');
  await expect(getComputedStyle(body).borderTopStyle).toBe('dashed');

  const before = body.value;
  await userEvent.click(body);
  await userEvent.keyboard('typed after losing the lock');
  await expect(body.value).toBe(before);
  body.select();
  await expect(body.selectionEnd - body.selectionStart).toBe(before.length);
  // The text outside the fields can be selected too (inert content cannot).
  const selection = getSelection();
  selection?.selectAllChildren(body.closest('form') as HTMLElement);
  await expect(selection?.toString()).toMatch(/Title/);
  selection?.removeAllRanges();
  return panel;
}

/**
 * The page around the editor works: its header link keeps focus (nothing pulls it back) and its
 * "Sign out" button answers a click.
 */
export async function expectPageUsable(canvasElement: HTMLElement): Promise<void> {
  const canvas = within(canvasElement);
  const link = canvas.getByRole('link', { name: 'All pages' });
  link.focus();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await expect(document.activeElement).toBe(link);
  const signOuts = Number(canvas.getByTestId('sign-outs').textContent);
  await userEvent.click(canvas.getByRole('button', { name: 'Sign out' }));
  await expect(canvas.getByTestId('sign-outs')).toHaveTextContent(String(signOuts + 1));
}

/** Nothing covers the editor: no dialog, nothing inert, and typing reaches it. */
export async function expectEditorUsable(canvasElement: HTMLElement): Promise<void> {
  await expect(within(canvasElement).queryByRole('dialog')).toBeNull();
  // No block and no read-only banner (a `blockEditing={false}` notice may be there).
  await expect(canvasElement.querySelector('section.page-lock-overlay__panel')).toBeNull();
  const body = editorBody(canvasElement);
  await expect(body.closest('[inert]')).toBeNull();
  await expect(body).not.toHaveAttribute('readonly');
  await userEvent.click(body);
  await userEvent.keyboard(' Closed on holidays.');
  await expect(body.value).toMatch(/Closed on holidays\.$/);
}

/** Waits until a multi-editor story's pane shows the lock `status` on its status line. */
export async function statusOf(pane: HTMLElement, status: string): Promise<void> {
  await waitFor(
    () => expect(within(pane).getByTestId('lock-status')).toHaveAttribute('data-status', status),
    { timeout: 5_000 },
  );
}
