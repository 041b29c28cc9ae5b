/** How times are written: a BCP 47 locale (the browser's when absent) and an IANA time zone. */
export interface TimeFormatOptions {
  locale?: string | readonly string[];
  timeZone?: string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * "5 minutes ago" for `since` seen from `now` (both epoch ms on the same clock, the server's).
 * Counts whole units, as people do ("5 minutes" until the sixth has passed); a `since` slightly
 * in the future (clock skew) reads as now.
 */
export function formatRelativeTime(
  since: number,
  now: number,
  options: TimeFormatOptions = {},
): string {
  const format = new Intl.RelativeTimeFormat(toLocales(options.locale), { numeric: 'auto' });
  const elapsed = Math.max(0, now - since);
  if (elapsed < MINUTE) return format.format(-Math.floor(elapsed / SECOND), 'second');
  if (elapsed < HOUR) return format.format(-Math.floor(elapsed / MINUTE), 'minute');
  if (elapsed < DAY) return format.format(-Math.floor(elapsed / HOUR), 'hour');
  return format.format(-Math.floor(elapsed / DAY), 'day');
}

/**
 * "10:42" for `since`: hours and minutes, plus the date when `since` falls on another day than
 * `now` in the chosen time zone, so a lock held since yesterday does not read as this morning.
 */
export function formatClockTime(
  since: number,
  now: number,
  options: TimeFormatOptions = {},
): string {
  const locales = toLocales(options.locale);
  const timeZone = options.timeZone;
  const day = new Intl.DateTimeFormat(locales, {
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    timeZone,
  });
  const sameDay = day.format(since) === day.format(now);
  return new Intl.DateTimeFormat(locales, {
    hour: 'numeric',
    minute: '2-digit',
    ...(sameDay ? {} : { month: 'short', day: 'numeric' }),
    timeZone,
  }).format(since);
}

/** Both forms at once, for the overlay's messages. */
export function formatSince(
  since: number,
  now: number,
  options: TimeFormatOptions = {},
): { time: string; relative: string } {
  return {
    time: formatClockTime(since, now, options),
    relative: formatRelativeTime(since, now, options),
  };
}

function toLocales(locale: TimeFormatOptions['locale']): string | string[] | undefined {
  return typeof locale === 'string' || locale === undefined ? locale : [...locale];
}
