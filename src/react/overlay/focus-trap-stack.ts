/** One active focus trap, as the stack of active traps knows it. */
export interface ActiveFocusTrap {
  /** The element focus is held in (the overlay's panel). */
  readonly container: HTMLElement;
  /** Whether it keeps focus inside (a modal); a trap that does not still pauses older ones. */
  readonly trap: boolean;
  /** Moves focus into the container. */
  focusInside(): void;
}

// Module-level on purpose: two overlays in one document (two editors side by side, Storybook's
// docs page) must agree on which one holds focus. Each pulling focus into its own panel made
// the other's `focusin` pull it back, until "Maximum call stack size exceeded".
const activeTraps: ActiveFocusTrap[] = [];

/** Puts `trap` on top: from now on it alone reacts to focus and Tab in its document. */
export function activateFocusTrap(trap: ActiveFocusTrap): void {
  deactivateFocusTrap(trap);
  activeTraps.push(trap);
}

/** Takes `trap` off the stack; the trap activated before it (if any) reacts again. */
export function deactivateFocusTrap(trap: ActiveFocusTrap): void {
  const index = activeTraps.indexOf(trap);
  if (index !== -1) activeTraps.splice(index, 1);
}

/** The most recently activated trap still active in `ownerDocument`, the one that reacts. */
export function currentFocusTrap(ownerDocument: Document): ActiveFocusTrap | undefined {
  // A loop rather than `findLast`: the build targets ES2022.
  for (let index = activeTraps.length - 1; index >= 0; index--) {
    const trap = activeTraps[index];
    if (trap?.container.ownerDocument === ownerDocument) return trap;
  }
  return undefined;
}

/** Whether `node` is inside any active trap's container: focus there is never pulled away. */
export function isInsideActiveFocusTrap(node: Node | null): boolean {
  return node !== null && activeTraps.some((trap) => trap.container.contains(node));
}
