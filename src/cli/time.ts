// The one reader of ISO 8601 times for every flag and every record: a time without an offset is
// UTC (never the machine's zone, so a result does not depend on where it ran), and an impossible
// date or time (2026-11-31, 24:00, 10:61) is refused, where Date.parse would roll it over to the
// next day or month without a word.
const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** What parseIso found: not an ISO 8601 date/time at all, or one that names no real instant. */
export const NOT_ISO = null;
/** What parseIso returns for an ISO 8601 text that names no real instant (2026-11-31). */
export const IMPOSSIBLE = 'impossible';

/** Milliseconds since the epoch; NOT_ISO when the text is not ISO 8601; IMPOSSIBLE for 2026-11-31. */
export function parseIso(text: string): number | typeof NOT_ISO | typeof IMPOSSIBLE {
  const m = ISO_8601.exec(text.trim());
  if (!m) return NOT_ISO;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const ms = Number((frac + '000').slice(0, 3));
  const utc = Date.UTC(+y!, +mo! - 1, +d!, +h, +mi, +s, ms);
  const check = new Date(utc);
  if (check.getUTCFullYear() !== +y! || check.getUTCMonth() !== +mo! - 1 || check.getUTCDate() !== +d! || +h > 23 || +mi > 59 || +s > 59) {
    return IMPOSSIBLE;
  }
  if (zone === undefined || /^z$/i.test(zone)) return utc;
  const zm = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
  const offH = +zm[2]!;
  const offM = +(zm[3] ?? '0');
  if (offH > 23 || offM > 59) return IMPOSSIBLE;
  const offset = (offH * 60 + offM) * 60_000 * (zm[1] === '-' ? -1 : 1);
  return utc - offset;
}

/**
 * A timestamp from the data as canonical ISO (toISOString), or null when it is not a date.
 * ISO text goes through parseIso (no offset = UTC); other text and epoch milliseconds are left
 * to Date, as before.
 */
export function dataTime(v: unknown): string | null {
  if (typeof v === 'string') {
    // Fast path: already canonical (what process writes, and process checked it).
    if (v.length === 24 && v.charCodeAt(23) === 90 /* Z */ && v.charCodeAt(10) === 84 /* T */ && v.charCodeAt(19) === 46) return v;
    return fromIso(v);
  }
  if (typeof v === 'number' && Number.isFinite(v)) {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? null : d.toISOString();
  }
  return null;
}

function fromIso(v: string): string | null {
  const t = parseIso(v);
  if (t === IMPOSSIBLE) return null;
  if (t !== NOT_ISO) return new Date(t).toISOString();
  const other = Date.parse(v);
  return Number.isNaN(other) ? null : new Date(other).toISOString();
}
