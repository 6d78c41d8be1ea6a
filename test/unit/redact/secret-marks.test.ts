import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SECRET_MARKS, maybeSecret, secretAtByte } from '../../../src/redact/redact.js';

/** secretAtByte over a string's bytes as a JSON string holds them (closed by its quote): any mark a hit. */
function marked(text: string): boolean {
  const b = Buffer.from(text + '"');
  const marks = new Set([...SECRET_MARKS].map((c) => c.charCodeAt(0)));
  for (let i = 0; i < b.length - 1; i++) if (marks.has(b[i]!) && secretAtByte(b, 0, i, b[i]!)) return true;
  return false;
}

// Pieces of every pattern maybeSecret looks for, and their neighbours, so random strings hit them.
const PIECES = [
  'yJ', 'ey', 'BEGIN', 'BEG', 'Bearer', 'bearer', 'BEARER', 'earer', 'AKIA', 'AIza', 'AS', 'AB', 'A', 'K', 'IOSFODNN7EXAMPLE',
  'ghp_', 'gho_', 'gh', 'github_pat', 'github', 'xoxb-', 'xox', 'k_live', '_', 'k', 'live', ':', '=', ' ', '\t', 'password',
  'a', 'Z', 'Q', '9', 'x', '-', 'é', '😀', "'", '\u007f', '/', 'T08', 'api_key', 'token', 'Authorization', 'user:pw@', 'http://',
];
const text = fc.oneof(
  fc.array(fc.constantFrom(...PIECES), { maxLength: 10 }).map((a) => a.join('')),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(...'AKIBSEGNRyJbeaxo_-:= \t9Z'), maxLength: 30 }),
).filter((s) => !/["\\\u0000-\u001f]/.test(s)); // as a JSON string holds it raw (an escape: the exact way)

describe('secretAtByte: the byte-level pre-check for secrets in string values', () => {
  it('hits wherever maybeSecret does (a superset, so no secret is missed)', () => {
    fc.assert(
      fc.property(text, (s) => {
        if (maybeSecret(s)) expect(marked(s), s).toBe(true);
      }),
      { numRuns: 20000 },
    );
  });

  it('hits each pattern, and not ordinary event text', () => {
    for (const s of ['a: b', 'x=1', 'eyJhbG', 'BEGIN RSA', 'Bearer x', 'bearer', 'BEARER', 'AKIAIOSFODNN7EXAMPLE', 'AIza', 'ghp_x', 'github_pat_', 'xoxb-1', 'sk_live_1', "'=:"]) {
      expect(marked(s), s).toBe(true);
    }
    for (const s of ['2026-11-21T08:00:00.004Z', '7f249a41-92e7-4ae4-8708-8814f9fec900', 'frances.wirth59963@lab.net', 'Björn van Berg', 'check_registry_record_status', 'User Successfully Created', 'Flywheel API error']) {
      expect(marked(s), s).toBe(false);
    }
  });
});
