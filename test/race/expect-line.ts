import { expect } from 'vitest';
import type { RaceAudit } from './audit';

/**
 * The line's promises held in a race (issue 12): no page passed to a departed waiter, every
 * hand-over reached exactly the waiter named, the line served in order; and the race did use the
 * line (asks, passes and departures happened, and hand-overs where `handOvers` says so), or it
 * proved little. Over a store whose round trips are long against the race's 40 ms leases (Postgres
 * on a busy machine) most leases lapse before their holder sees anyone waiting, so hand-overs are
 * too rare there to require; their rule is the same code the contract suite checks per store.
 */
export function expectLineKept(audit: RaceAudit, { handOvers = true } = {}): void {
  expect(audit.departedGrants).toBe(0);
  expect(audit.wrongHandOvers).toBe(0);
  expect(audit.orderViolations).toBe(0);
  expect(audit.line.queued).toBeGreaterThan(0);
  expect(audit.line.passed).toBeGreaterThan(0);
  if (handOvers) expect(audit.line.handedOver).toBeGreaterThan(0);
  expect(audit.line.departed).toBeGreaterThan(0);
}
