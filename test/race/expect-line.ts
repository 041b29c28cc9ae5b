import { expect } from 'vitest';
import type { RaceAudit } from './audit';

/**
 * The line's promises held in a race (issue 12): no page passed to a departed waiter, every
 * hand-over reached exactly the waiter named, the line served in order; and the race did use the
 * line (asks, passes, hand-overs and departures all happened), or it proved little.
 */
export function expectLineKept(audit: RaceAudit): void {
  expect(audit.departedGrants).toBe(0);
  expect(audit.wrongHandOvers).toBe(0);
  expect(audit.orderViolations).toBe(0);
  expect(audit.line.queued).toBeGreaterThan(0);
  expect(audit.line.passed).toBeGreaterThan(0);
  if (handOvers) expect(audit.line.handedOver).toBeGreaterThan(0);
  expect(audit.line.departed).toBeGreaterThan(0);
}
