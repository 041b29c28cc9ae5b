import { readFileSync } from 'node:fs';
import type { RaceLogEntry } from './race-log';

/** What the auditor found in the merged logs of a race. */
export interface RaceAudit {
  /** Store calls logged (grants, refreshes, releases and refusals). */
  operations: number;
  /** New grants (acquires and takeovers). */
  grants: number;
  /** Grants made while the previous lease of the resource had not ended. */
  overlaps: number;
  /** Fences granted twice, smaller than a fence granted before, or changed by a refresh. */
  fenceViolations: number;
  /** How each grant after the first of a resource came about: shows the race covered them all. */
  handovers: { afterRelease: number; afterExpiry: number; takeover: number };
  /** What the line did: asks answered with a place, pages passed to a waiter, hand-overs, departures. */
  line: { queued: number; passed: number; handedOver: number; departed: number };
  /** Pages the line granted to a waiter whose place had lapsed (it departed). */
  departedGrants: number;
  /** Hand-overs whose grant went to someone other than the waiter named. */
  wrongHandOvers: number;
  /** Pages the line passed to a waiter while one that asked earlier still waited. */
  orderViolations: number;
  /** One line per problem, for the test's failure message. */
  problems: string[];
}

type GrantEntry = Extract<RaceLogEntry, { type: 'grant' }>;

interface Lease {
  grant: GrantEntry;
  /** The largest `expiresAt` its grant and refreshes reached. */
  lastExpiresAt: number;
  /** The clock before the first release call that answered `released`. */
  releasedAt: number | null;
}

/** Reads the JSON-lines logs the workers wrote. */
export function readRaceLogs(files: readonly string[]): RaceLogEntry[] {
  return files.flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as RaceLogEntry),
  );
}

/**
 * Checks invariants 1 and 2 of DESIGN.md on what the racing workers were told. All the times it
 * compares are on one clock: the store's own when it has one (Redis, Postgres: what it reported,
 * so workers whose clocks are skewed are judged alike), else the machine's (see race-log.ts).
 *
 * A lease lasts from its grant to its release, its takeover, or its last `expiresAt`, whichever
 * comes first. By the service's clock every worker reads the clock before its store call waits
 * for the store's lock, so a grant can carry a time a little earlier than the release that freed
 * the resource, although the store ran it after. The auditor therefore walks each resource's
 * grants in the store's own order (by fence, once fences are shown to be unique) and judges each
 * handover by what the store decided on:
 * - after an expiry, the next grant's `acquiredAt` must be ≥ the last `expiresAt` the holder was
 *   given (the store compared exactly those numbers);
 * - after a release, the next grant must not have returned before the release call began;
 * - a takeover ends the lease it replaces at its own `acquiredAt`.
 * Fences must be unique, kept by refreshes, and grow with real time: a grant asked for after
 * another grant had returned must carry a larger fence.
 */
export function auditRaceLogs(
  entries: readonly RaceLogEntry[],
  options: { orderMarginMs?: number } = {},
): RaceAudit {
  const problems: string[] = [];
  let overlaps = 0;
  let fenceViolations = 0;
  const handovers = { afterRelease: 0, afterExpiry: 0, takeover: 0 };
  const leasesByResource = new Map<string, Lease[]>();
  const leaseByToken = new Map<string, Lease>();
  const tokenKey = (resourceId: string, token: string) => `${resourceId}\n${token}`;

  for (const entry of entries) {
    if (entry.type !== 'grant') continue;
    const lease: Lease = { grant: entry, lastExpiresAt: entry.expiresAt, releasedAt: null };
    const leases = leasesByResource.get(entry.resourceId) ?? [];
    leases.push(lease);
    leasesByResource.set(entry.resourceId, leases);
    leaseByToken.set(tokenKey(entry.resourceId, entry.token), lease);
  }

  // A reclaim hands out a fresh token for the same grant (same fence): that token is the
  // lease's from then on, so a later refresh or release with it belongs to the same lease.
  for (const entry of entries) {
    if (entry.type !== 'refresh' || entry.via !== 'reclaimed') continue;
    if (leaseByToken.has(tokenKey(entry.resourceId, entry.token))) continue;
    const lease = leasesByResource
      .get(entry.resourceId)
      ?.find((candidate) => candidate.grant.fence === entry.fence);
    if (lease) leaseByToken.set(tokenKey(entry.resourceId, entry.token), lease);
  }

  for (const entry of entries) {
    if (entry.type === 'refresh') {
      const lease = leaseByToken.get(tokenKey(entry.resourceId, entry.token));
      if (!lease) {
        fenceViolations++;
        problems.push(`${entry.resourceId}: a token never granted was refreshed`);
      } else if (entry.fence !== lease.grant.fence) {
        fenceViolations++;
        problems.push(
          `${entry.resourceId}: a refresh changed fence ${lease.grant.fence} to ${entry.fence}`,
        );
      } else {
        lease.lastExpiresAt = Math.max(lease.lastExpiresAt, entry.expiresAt);
      }
    } else if (entry.type === 'release' && entry.outcome === 'released') {
      const lease = leaseByToken.get(tokenKey(entry.resourceId, entry.token));
      if (lease) lease.releasedAt = Math.min(lease.releasedAt ?? entry.at, entry.at);
    }
  }

  for (const [resourceId, leases] of leasesByResource) {
    const byFence = [...leases].sort((a, b) => a.grant.fence - b.grant.fence);
    const reused = new Set<GrantEntry>();
    for (const [i, lease] of byFence.entries()) {
      const previous = byFence[i - 1];
      if (!previous) continue;
      const { grant } = lease;
      if (grant.fence === previous.grant.fence) {
        fenceViolations++;
        problems.push(`${resourceId}: fence ${grant.fence} was granted twice`);
        reused.add(grant);
        continue;
      }
      if (grant.via === 'taken-over') handovers.takeover++;
      else if (previous.releasedAt !== null) handovers.afterRelease++;
      else handovers.afterExpiry++;
      const problem = handoverProblem(previous, grant);
      if (problem) {
        overlaps++;
        problems.push(`${resourceId}: ${problem}`);
      }
    }

    // A grant asked for after another had returned came later in the store: its fence is larger.
    const byReturn = [...leases].sort((a, b) => a.grant.returnedAt - b.grant.returnedAt);
    const byStart = [...leases].sort((a, b) => a.grant.acquiredAt - b.grant.acquiredAt);
    let returned = 0;
    let highest: GrantEntry | null = null;
    for (const { grant } of byStart) {
      while (returned < byReturn.length) {
        const done = (byReturn[returned] as Lease).grant;
        if (done.returnedAt >= grant.acquiredAt) break;
        if (!highest || done.fence > highest.fence) highest = done;
        returned++;
      }
      if (highest && grant.fence <= highest.fence && !reused.has(grant)) {
        fenceViolations++;
        problems.push(
          `${resourceId}: fence ${grant.fence} granted at ${grant.acquiredAt}, after fence ${highest.fence} had been granted (returned at ${highest.returnedAt})`,
        );
      }
    }
  }

  const line = auditLine(entries, options.orderMarginMs ?? 0, problems);
  return {
    operations: entries.length,
    grants: leases(leasesByResource).length,
    overlaps,
    fenceViolations,
    handovers,
    ...line,
    problems,
  };
}

type LineAudit = Pick<RaceAudit, 'line' | 'departedGrants' | 'wrongHandOvers' | 'orderViolations'>;

/**
 * The line's promises, on what the workers saw:
 * - a waiter whose place lapsed (it departed) is never granted the page after that;
 * - a hand-over's grant is the named waiter's;
 * - a page the line passed on (not handed over) goes to the waiter that asked first: no waiter
 *   that asked earlier (by more than `marginMs`, for clocks read before the store call) was still
 *   in line then. A place answered `queued` after the pass under the same waiter id was in line
 *   all along (a place that lapsed comes back under a new id).
 */
function auditLine(
  entries: readonly RaceLogEntry[],
  marginMs: number,
  problems: string[],
): LineAudit {
  type Queued = Extract<RaceLogEntry, { type: 'queued' }>;
  const line = { queued: 0, passed: 0, handedOver: 0, departed: 0 };
  let departedGrants = 0;
  let wrongHandOvers = 0;
  let orderViolations = 0;
  const key = (resourceId: string, id: string) => `${resourceId}\n${id}`;

  const placesByWaiter = new Map<string, Queued[]>();
  const waiterOfClient = new Map<string, Queued[]>();
  const departures = new Map<string, number>();
  const handed = new Map<string, string>();
  /** Each grant the line made, by resource and fence: its tab and when it was made. */
  const passes = new Map<
    string,
    { resourceId: string; clientId: string; fence: number; at: number }
  >();

  for (const entry of entries) {
    if (entry.type === 'queued') {
      line.queued++;
      const places = placesByWaiter.get(key(entry.resourceId, entry.waiterId)) ?? [];
      places.push(entry);
      placesByWaiter.set(key(entry.resourceId, entry.waiterId), places);
      const ofClient = waiterOfClient.get(key(entry.resourceId, entry.clientId)) ?? [];
      ofClient.push(entry);
      waiterOfClient.set(key(entry.resourceId, entry.clientId), ofClient);
    } else if (entry.type === 'depart') {
      line.departed++;
      departures.set(key(entry.resourceId, entry.clientId), entry.placeExpiresAt);
    } else if (entry.type === 'handed') {
      line.handedOver++;
      handed.set(key(entry.resourceId, String(entry.fence)), entry.waiterId);
    } else if (entry.type === 'seen' || (entry.type === 'grant' && entry.via === 'passed')) {
      const clientId = entry.clientId as string;
      const at = entry.type === 'seen' ? entry.acquiredAt : entry.acquiredAt;
      passes.set(key(entry.resourceId, String(entry.fence)), {
        resourceId: entry.resourceId,
        clientId,
        fence: entry.fence,
        at,
      });
    }
  }
  line.passed = passes.size;

  for (const pass of passes.values()) {
    const departedAt = departures.get(key(pass.resourceId, pass.clientId));
    if (departedAt !== undefined && pass.at >= departedAt) {
      departedGrants++;
      problems.push(
        `${pass.resourceId}: fence ${pass.fence} went to ${pass.clientId} at ${pass.at}, whose place had lapsed at ${departedAt}`,
      );
    }
    const named = handed.get(key(pass.resourceId, String(pass.fence)));
    if (named !== undefined) {
      // A waiter id names one tab's place for good: the grant must be that tab's.
      const namedTab = placesByWaiter.get(key(pass.resourceId, named))?.[0]?.clientId;
      if (namedTab !== undefined && namedTab !== pass.clientId) {
        wrongHandOvers++;
        problems.push(
          `${pass.resourceId}: fence ${pass.fence} was handed to waiter ${named} (tab ${namedTab}) but went to tab ${pass.clientId}`,
        );
      }
      continue;
    }
    // The place the tab was granted by: its last `queued` answer before the pass.
    const own = (waiterOfClient.get(key(pass.resourceId, pass.clientId)) ?? [])
      .filter((q) => q.at <= pass.at)
      .at(-1);
    if (!own) continue;
    for (const [waiterKey, places] of placesByWaiter) {
      if (!waiterKey.startsWith(`${pass.resourceId}\n`)) continue;
      const other = places[0] as Queued;
      if (other.waiterId === own.waiterId || other.clientId === pass.clientId) continue;
      const stillWaiting = places.some((q) => q.at > pass.at);
      if (stillWaiting && other.askedAt + marginMs < own.askedAt) {
        orderViolations++;
        problems.push(
          `${pass.resourceId}: fence ${pass.fence} passed at ${pass.at} to waiter ${own.waiterId} (asked ${own.askedAt}) while ${other.waiterId} (asked ${other.askedAt}) still waited`,
        );
      }
    }
  }
  return { line, departedGrants, wrongHandOvers, orderViolations };
}

function leases(byResource: Map<string, Lease[]>): Lease[] {
  return [...byResource.values()].flat();
}

/** Why `next` (the grant after `lease` in fence order) overlaps `lease`, or null when it does not. */
function handoverProblem(lease: Lease, next: GrantEntry): string | null {
  const held = `fence ${lease.grant.fence} (worker ${lease.grant.worker})`;
  const granted = `fence ${next.fence} (worker ${next.worker})`;
  if (next.via === 'taken-over') return null;
  if (lease.releasedAt !== null) {
    return next.returnedAt < lease.releasedAt
      ? `${granted} was granted by ${next.returnedAt}, before ${held} was released at ${lease.releasedAt}`
      : null;
  }
  return next.acquiredAt < lease.lastExpiresAt
    ? `${granted} was granted at ${next.acquiredAt} while ${held} held it until ${lease.lastExpiresAt}`
    : null;
}
