import { describe, expect, it } from 'vitest';
import { auditRaceLogs } from './audit';
import type { RaceLogEntry } from './race-log';

const page = 'race:page/0';

function grant(
  worker: number,
  fence: number,
  acquiredAt: number,
  options: { ttl?: number; via?: 'granted' | 'taken-over'; returnedAt?: number } = {},
): RaceLogEntry {
  return {
    type: 'grant',
    worker,
    resourceId: page,
    token: `token-${worker}-${fence}`,
    fence,
    acquiredAt,
    expiresAt: acquiredAt + (options.ttl ?? 40),
    returnedAt: options.returnedAt ?? acquiredAt + 1,
    via: options.via ?? 'granted',
  };
}

function release(worker: number, fence: number, at: number): RaceLogEntry {
  return {
    type: 'release',
    worker,
    resourceId: page,
    token: `token-${worker}-${fence}`,
    fence,
    at,
    outcome: 'released',
  };
}

function refresh(worker: number, fence: number, at: number): RaceLogEntry {
  return {
    type: 'refresh',
    worker,
    resourceId: page,
    token: `token-${worker}-${fence}`,
    fence,
    at,
    expiresAt: at + 40,
    via: 'refreshed',
  };
}

describe('the race auditor', () => {
  it('passes a clean history of release, expiry and takeover handovers', () => {
    const audit = auditRaceLogs([
      grant(0, 1, 1_000),
      release(0, 1, 1_010),
      grant(1, 2, 1_011),
      refresh(1, 2, 1_030), // lease now lasts until 1_070
      grant(2, 3, 1_070), // expiry handover, exactly at the last expiresAt
      grant(3, 4, 1_080, { via: 'taken-over' }),
      {
        type: 'refused',
        worker: 0,
        resourceId: page,
        action: 'acquire',
        at: 1_081,
        outcome: 'locked',
      },
    ]);
    expect(audit).toEqual({
      operations: 7,
      grants: 4,
      overlaps: 0,
      fenceViolations: 0,
      handovers: { afterRelease: 1, afterExpiry: 1, takeover: 1 },
      line: { queued: 0, passed: 0, handedOver: 0, departed: 0 },
      departedGrants: 0,
      wrongHandOvers: 0,
      orderViolations: 0,
      problems: [],
    });
  });

  it('accepts a grant stamped just before the release the store ran first', () => {
    // Worker 1 read the clock at 1_008, then waited for the store while worker 0 released.
    const audit = auditRaceLogs([
      grant(0, 1, 1_000),
      release(0, 1, 1_010),
      grant(1, 2, 1_008, { returnedAt: 1_012 }),
    ]);
    expect(audit.overlaps).toBe(0);
  });

  it('counts a grant made while the previous lease was still live as an overlap', () => {
    const audit = auditRaceLogs([
      grant(0, 1, 1_000),
      refresh(0, 1, 1_020), // until 1_060
      grant(1, 2, 1_050),
    ]);
    expect(audit.overlaps).toBe(1);
    expect(audit.problems).toEqual([
      `${page}: fence 2 (worker 1) was granted at 1050 while fence 1 (worker 0) held it until 1060`,
    ]);
  });

  it('counts a grant that returned before the previous holder released as an overlap', () => {
    const audit = auditRaceLogs([grant(0, 1, 1_000), grant(1, 2, 1_005), release(0, 1, 1_020)]);
    expect(audit.overlaps).toBe(1);
  });

  it('counts a reused fence, and a fence smaller than one already granted', () => {
    const audit = auditRaceLogs([
      grant(0, 1, 1_000),
      grant(1, 1, 1_050),
      grant(2, 3, 1_100),
      grant(3, 2, 1_200),
    ]);
    expect(audit.fenceViolations).toBe(2);
    expect(audit.problems).toContain(`${page}: fence 1 was granted twice`);
    expect(audit.problems).toContain(
      `${page}: fence 2 granted at 1200, after fence 3 had been granted (returned at 1101)`,
    );
  });

  it('follows a reclaim’s fresh token: its refreshes and its release belong to the same lease', () => {
    const reclaimed = { ...refresh(0, 1, 1_020), token: 'token-0-1-reloaded', via: 'reclaimed' };
    const audit = auditRaceLogs([
      grant(0, 1, 1_000),
      reclaimed as RaceLogEntry,
      { ...(refresh(0, 1, 1_040) as RaceLogEntry), token: 'token-0-1-reloaded' } as RaceLogEntry,
      { ...(release(0, 1, 1_050) as RaceLogEntry), token: 'token-0-1-reloaded' } as RaceLogEntry,
      grant(1, 2, 1_051),
    ]);
    expect(audit).toMatchObject({
      overlaps: 0,
      fenceViolations: 0,
      handovers: { afterRelease: 1, afterExpiry: 0, takeover: 0 },
    });
  });

  it('counts a refresh that changed the fence or used a token never granted', () => {
    const audit = auditRaceLogs([
      grant(0, 1, 1_000),
      { ...(refresh(0, 1, 1_010) as Extract<RaceLogEntry, { type: 'refresh' }>), fence: 7 },
      refresh(5, 9, 1_020),
    ]);
    expect(audit.fenceViolations).toBe(2);
  });
});

function queued(worker: number, waiterId: string, askedAt: number, at = askedAt): RaceLogEntry {
  return {
    type: 'queued',
    worker,
    resourceId: page,
    clientId: `tab-${worker}`,
    waiterId,
    askedAt,
    place: 1,
    at,
  };
}

function passed(worker: number, fence: number, at: number): RaceLogEntry {
  return {
    type: 'seen',
    worker,
    resourceId: page,
    clientId: `tab-${worker}`,
    fence,
    acquiredAt: at,
  };
}

describe('the race auditor, on the line', () => {
  it('passes a line served in order, with a hand-over to the waiter named', () => {
    const audit = auditRaceLogs([
      grant(0, 1, 1_000),
      queued(1, 'w1', 1_001),
      queued(2, 'w2', 1_002),
      queued(3, 'w3', 1_003),
      release(0, 1, 1_010),
      passed(1, 2, 1_010),
      queued(2, 'w2', 1_002, 1_015),
      { type: 'handed', worker: 1, resourceId: page, waiterId: 'w3', fence: 3, at: 1_020 },
      passed(3, 3, 1_020),
      queued(2, 'w2', 1_002, 1_025),
    ]);
    expect(audit).toMatchObject({
      line: { queued: 5, passed: 2, handedOver: 1, departed: 0 },
      departedGrants: 0,
      wrongHandOvers: 0,
      orderViolations: 0,
      problems: [],
    });
  });

  it('counts a page passed to a departed waiter, to the wrong waiter, or out of turn', () => {
    const audit = auditRaceLogs([
      grant(0, 1, 1_000),
      queued(1, 'w1', 1_001),
      queued(2, 'w2', 1_002),
      {
        type: 'depart',
        worker: 1,
        resourceId: page,
        clientId: 'tab-1',
        waiterId: 'w1',
        placeExpiresAt: 1_041,
      },
      // Passed to worker 2 while worker 1, who asked first, renewed after the pass: out of turn.
      passed(2, 2, 1_020),
      queued(1, 'w1', 1_001, 1_030),
      // Worker 1's place lapsed at 1 041; a grant to it at 1 050 is a grant to a departed waiter.
      passed(1, 3, 1_050),
      { type: 'handed', worker: 1, resourceId: page, waiterId: 'w2', fence: 3, at: 1_050 },
    ]);
    expect(audit.orderViolations).toBe(1);
    expect(audit.departedGrants).toBe(1);
    expect(audit.wrongHandOvers).toBe(1);
  });
});
