// Events that change content or send it: cancelled before the editor (or React) sees them.
const EDIT_EVENTS = ['beforeinput', 'paste', 'cut', 'drop', 'submit', 'reset'];

// Keys that only move, select or copy (every other key is swallowed); with Ctrl/Cmd also copy,
// select all and find.
const READING_KEY =
  /^(Arrow|Page|Home$|End$|Tab$|Escape$|Shift$|Control$|Alt|Meta$|CapsLock$|F\d\d?$)/;
const READING_SHORTCUT = /^[caf]$/i;

// What the read-only editor looks at, and how it treats each (see `kindOf`).
const CONTROLS = 'input, textarea, select, button, summary, label, [contenteditable], [role]';
const TEXT_TYPES =
  /^(text|search|email|url|tel|password|number|date|time|datetime-local|month|week)$/;
const BUTTON_TYPES = /^(button|submit|reset|image)$/;
// The roles ARIA allows `aria-readonly` on; then those that only take clicks.
const READ_ONLY_ROLES = /^(checkbox|combobox|listbox|radiogroup|slider|spinbutton|grid)$/;
const OPERABLE_ROLES = /^(option|radio|switch|tab|menuitem\w*)$/;

/**
 * `field`: takes text, gets `readonly`; `editable`: a contenteditable or textbox, gets
 * `aria-readonly`; both may be clicked into (to select, or place the caret). `button`: gets
 * `aria-disabled`; `widget`: gets `aria-readonly`; `control`: marked with neither; clicks on
 * these three are cancelled. `null`: not a control.
 */
function kindOf(element: Element): 'field' | 'editable' | 'button' | 'widget' | 'control' | null {
  const name = element.localName;
  const type = name === 'input' ? (element as HTMLInputElement).type : '';
  const role = element.getAttribute('role') ?? '';
  if (name === 'textarea' || TEXT_TYPES.test(type)) return 'field';
  if (role === 'textbox' || element.matches('[contenteditable]:not([contenteditable="false"])')) {
    return 'editable';
  }
  if (name === 'button' || role === 'button' || BUTTON_TYPES.test(type)) return 'button';
  if (name === 'select' || /^(checkbox|range)$/.test(type) || READ_ONLY_ROLES.test(role)) {
    return 'widget';
  }
  if (type || name === 'summary' || name === 'label' || OPERABLE_ROLES.test(role)) return 'control';
  return null;
}

/** Whether a key press only reads (moves, selects, copies) rather than edits. */
export function isReadingKey(event: KeyboardEvent): boolean {
  if (READING_KEY.test(event.key)) return true;
  const shortcut = (event.ctrlKey || event.metaKey) && !event.altKey;
  return shortcut && READING_SHORTCUT.test(event.key);
}

/**
 * Sets attributes and remembers, in `undo`, how to give each back exactly as it was (an
 * attribute that already had the value is left alone).
 */
export function marker(undo: Array<() => void>) {
  return (element: Element, name: string, value: string): void => {
    const before = element.getAttribute(name);
    if (before === value) return;
    element.setAttribute(name, value);
    undo.push(() =>
      before === null ? element.removeAttribute(name) : element.setAttribute(name, before),
    );
  };
}

/**
 * Makes `elements` read-only but still selectable, so the user can copy what they typed after
 * losing the lock (`inert` cannot: Chromium refuses to select text in inert content), and says
 * so: text fields get `readonly`, a contenteditable and the widgets ARIA allows it on get
 * `aria-readonly`, buttons `aria-disabled`, and each element `data-read-only` (the stylesheet
 * dims what is inside). In the capture phase it also cancels what edits or submits (typing into a
 * contenteditable, paste, cut, drop, form submission, editing keys) and clicks on buttons and
 * other controls; links still work. Returns how to give back exactly what it changed.
 *
 * A best effort: fields added while read-only are not marked (their edits are still cancelled),
 * composition input (IME) into a contenteditable cannot be cancelled, and a save that gets
 * through is refused by the server anyway, since the token is dead.
 */
export function makeReadOnly(elements: readonly Element[]): () => void {
  const undo: Array<() => void> = [];
  const mark = marker(undo);
  const swallow = (event: Event) => {
    event.preventDefault();
    event.stopPropagation();
  };
  const onKeyDown = (event: Event) => {
    if (!isReadingKey(event as KeyboardEvent)) swallow(event);
  };
  const onOperate = (event: Event) => {
    // The nearest control around the target decides (a <label> of a checkbox, say).
    for (let element = event.target as Element | null; element; element = element.parentElement) {
      const kind = kindOf(element);
      if (kind === 'field' || kind === 'editable') return;
      if (kind) return swallow(event);
    }
  };
  const listeners: Array<[string, (event: Event) => void]> = [
    ['keydown', onKeyDown],
    ['mousedown', onOperate],
    ['click', onOperate],
  ];
  for (const type of EDIT_EVENTS) listeners.push([type, swallow]);

  for (const element of elements) {
    for (const [type, listener] of listeners) {
      element.addEventListener(type, listener, true);
      undo.push(() => element.removeEventListener(type, listener, true));
    }
    mark(element, 'data-read-only', '');
    for (const control of element.querySelectorAll(CONTROLS)) {
      const kind = kindOf(control);
      if (kind === 'field') mark(control, 'readonly', '');
      else if (kind === 'button') mark(control, 'aria-disabled', 'true');
      else if (kind === 'editable' || kind === 'widget') mark(control, 'aria-readonly', 'true');
    }
  }
  return () => {
    for (const step of undo.splice(0).reverse()) step();
  };
}
