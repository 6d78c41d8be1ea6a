// Durations are written 30s, 5m, 4h (and 250ms, 2d) everywhere a flag takes one.
import { parseIso } from './time.js';
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds of a duration such as 250ms, 1.5s, 5m, 1h or 2d (a bare number is seconds); undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return undefined;
  const unit = m[2] ?? 's';
  return Math.round(parseFloat(m[1]!) * UNITS[unit]!);
}

/** An instant from an ISO date/time (UTC when it has no offset), or a duration ago ("4h" means four hours before now). */
export function parseTime(text: string, now = Date.now()): number | undefined {
  const ago = parseDuration(text);
  if (ago !== undefined && /[a-z]$/.test(text.trim())) return now - ago;
  const t = parseIso(text);
  return typeof t === 'number' ? t : undefined;
}

/** A span for people (email, report): 4s, 3m 20s, 5h 12m, then days past 48 hours (10d 1h, not 241h 0m). */
export function durationText(ms: number): string {
  if (!(ms >= 0)) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}
