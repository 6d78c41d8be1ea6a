// Durations are written 30s, 5m, 4h (and 250ms, 2d) everywhere a flag takes one.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const unit = m[2] ?? 's';
  return Math.round(parseFloat(m[1]!) * UNITS[unit]!);
}

/** An instant from an ISO date/time, or a duration ago ("4h" means four hours before now). */
export function parseTime(text: string, now = Date.now()): number | undefined {
  const ago = parseDuration(text);
  if (ago !== undefined && /[a-z]$/.test(text.trim())) return now - ago;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}
