/** Time bucket names for usage keys, in the configured stats time zone. */
export interface Buckets {
  /** YYYY-MM-DD:HH */
  hour: string;
  /** YYYY-MM-DD */
  day: string;
  /** YYYY-MM */
  month: string;
  /** YYYY-MM-DD of the Monday the week starts on. */
  week: string;
}

/** The Monday on or before a YYYY-MM-DD day. */
export function weekOf(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const t = Date.UTC(y, m - 1, d);
  const back = (new Date(t).getUTCDay() + 6) % 7;
  return new Date(t - back * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Returns a function from epoch ms to bucket names. Formatting a date in a time zone is slow, so
 * the result is memoised per clock hour (zone offsets are whole or half hours, always constant
 * within one UTC hour... except for the 45-minute zones, which are memoised per quarter hour).
 */
export function bucketer(timeZone: string): (ms: number) => Buckets {
  const fmt = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    hourCycle: 'h23',
  });
  const QUARTER = 15 * 60_000;
  let cachedSlot = -1;
  let cached: Buckets = { hour: '', day: '', month: '', week: '' };
  return (ms) => {
    const slot = Math.floor(ms / QUARTER);
    if (slot !== cachedSlot) {
      const parts: Record<string, string> = {};
      for (const p of fmt.formatToParts(ms)) parts[p.type] = p.value;
      const day = `${parts.year}-${parts.month}-${parts.day}`;
      cached = { hour: `${day}:${parts.hour}`, day, month: `${parts.year}-${parts.month}`, week: weekOf(day) };
      cachedSlot = slot;
    }
    return cached;
  };
}

/** The last `n` day names ending at `ms` (newest last), in the stats time zone. */
export function lastDays(bucketsOf: (ms: number) => Buckets, ms: number, n: number): string[] {
  const days: string[] = [];
  let t = ms;
  while (days.length < n) {
    const d = bucketsOf(t).day;
    if (days[days.length - 1] !== d && !days.includes(d)) days.push(d);
    t -= 6 * 3_600_000;
  }
  return days.reverse();
}
