// The one reader of option values that are not plain strings: comma lists, whole numbers,
// durations and single characters. Each rejects a bad value with a usage error naming the flag
// (`invalid --delimiter: must be one character (\t for a tab), got ";;"`), so every binary words
// the same mistake the same way.
import { invalidOption } from './errors.js';
import { parseDuration } from './duration.js';

/** Every value of a repeatable flag, comma lists split, each item trimmed; empty items are dropped unless keepEmpty. */
export function listOption(values: readonly string[], keepEmpty = false): string[] {
  const items = values.flatMap((v) => v.split(',')).map((v) => v.trim());
  return keepEmpty ? items : items.filter(Boolean);
}

/** A whole number of at least `min`, or undefined when the flag is absent. */
export function intOption(flag: string, raw: string | boolean | undefined, min = 0): number | undefined {
  if (raw === undefined || raw === false) return undefined;
  const text = String(raw).trim();
  if (!/^\d+$/.test(text) || Number(text) < min) throw invalidOption(flag, `must be a whole number ${min ? `of at least ${min}` : 'of 0 or more'}`, raw);
  return Number(text);
}

/** A --flag DURATION value (or its default) in ms; anything else, or zero, is a usage error naming the flag. */
export function durationOption(flag: string, raw: string | undefined, fallback: string): number {
  const text = raw ?? fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw invalidOption(flag, 'must be a duration such as 30s, 5m or 4h', text);
  return ms;
}

/** One character; `\t` and the word "tab" are accepted for a tab, so shells need no $'\t'. */
export function charOption(flag: string, raw: string): string {
  const v = raw === '\\t' || raw.toLowerCase() === 'tab' ? '\t' : raw;
  if ([...v].length !== 1 || v.length !== 1) throw invalidOption(flag, 'must be one character (\\t for a tab)', raw);
  if (v === '\n' || v === '\r') throw invalidOption(flag, 'must not be a line break', raw);
  return v;
}
