'use client';

import { useRef, useState } from 'react';

/**
 * Runs one async action at a time, so a double click does not take over (or hand over) twice;
 * `busy` while it runs, for `aria-disabled`.
 */
export function usePendingGuard(): {
  busy: boolean;
  run: (action: () => Promise<unknown>) => void;
} {
  const [busy, setBusy] = useState(false);
  const running = useRef(false);
  return {
    busy,
    run: (action) => {
      if (running.current) return;
      running.current = true;
      setBusy(true);
      const done = () => {
        running.current = false;
        setBusy(false);
      };
      // A refusal shows in the lock state itself; here it only re-enables the button.
      action().then(done, done);
    },
  };
}
