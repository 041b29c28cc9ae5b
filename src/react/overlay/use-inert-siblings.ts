'use client';

import { type RefObject, useEffect } from 'react';

/**
 * While `active`, makes every sibling of `root` (a direct child of `<body>`, where the
 * page-covering overlay is portalled) `inert`, and on deactivation gives back exactly the
 * siblings it changed: elements that were inert already stay inert.
 *
 * Siblings added while active (another portal opening later) are not made inert.
 */
export function useInertSiblings(root: RefObject<HTMLElement | null>, active: boolean): void {
  useEffect(() => {
    const element = root.current;
    const parent = element?.parentElement;
    if (!active || !element || !parent) return;
    const madeInert: Element[] = [];
    for (const sibling of Array.from(parent.children)) {
      if (sibling === element || sibling.hasAttribute('inert')) continue;
      // <script>/<style>/<template> have nothing to block; leaving them keeps the DOM quieter.
      if (['SCRIPT', 'STYLE', 'TEMPLATE', 'LINK'].includes(sibling.tagName)) continue;
      sibling.setAttribute('inert', '');
      madeInert.push(sibling);
    }
    return () => {
      for (const sibling of madeInert) sibling.removeAttribute('inert');
    };
  }, [root, active]);
}
