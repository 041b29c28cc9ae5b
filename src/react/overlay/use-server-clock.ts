'use client';

import { useEffect, useState } from 'react';

/** How often a shown relative time ("5 minutes ago") is brought up to date. */
export const SERVER_CLOCK_TICK_MS = 15_000;

/**
 * The server's current time (`Date.now() + serverTimeOffset`), re-rendering every `tickMs`
 * ({@link SERVER_CLOCK_TICK_MS} unless told otherwise; a countdown of seconds asks for 1 000)
 * while `active`, and not at all while inactive (no timer runs).
 */
export function useServerClock(
  serverTimeOffset: number,
  active: boolean,
  tickMs: number = SERVER_CLOCK_TICK_MS,
): number {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (!active) return;
    const interval = setInterval(() => setTick((tick) => tick + 1), tickMs);
    return () => clearInterval(interval);
  }, [active, tickMs]);
  return Date.now() + serverTimeOffset;
}
