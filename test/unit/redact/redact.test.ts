import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { REDACTED, redactValue, secretKeyMatcher } from '../../../src/redact/redact.js';

const alnum = (min: number, max: number, chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789') =>
  fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });
const upperDigits = alnum(16, 16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0234567');
const b64url = (min: number) => alnum(min, min + 40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_');

// Secrets as they appear in logs; each has a unique part that must not survive.
const secrets = fc.oneof(
  upperDigits.map((s) => ({ text: `AKIA${s}`, core: `AKIA${s}` })),
  fc.tuple(alnum(12, 40), fc.integer({ min: 0, max: 9 })).map(([t, d]) => ({ text: `Bearer ${t}${d}`, core: `${t}${d}` })),
  fc.tuple(b64url(8), b64url(8), b64url(16)).map(([h, p, s]) => ({ text: `eyJ${h}.eyJ${p}.${s}`, core: `eyJ${h}.eyJ${p}.${s}` })),
  fc.array(alnum(64, 64), { minLength: 1, maxLength: 4 }).map((lines) => {
    const body = lines.join('\n');
    return { text: `-----BEGIN RSA PRIVATE KEY-----\n${body}\n-----END RSA PRIVATE KEY-----`, core: lines[0]! };
  }),
  fc.tuple(fc.constantFrom('postgres', 'https', 'mysql', 'redis'), alnum(1, 10), alnum(6, 20)).map(([s, u, p]) => ({ text: `${s}://${u}:${p}@db.example.org:5432/x`, core: `:${p}@` })),
  fc.tuple(fc.constantFrom('password', 'api_key', 'secret', 'token'), alnum(6, 20)).map(([k, v]) => ({ text: `${k}=${v}`, core: `=${v}` })),
  alnum(36, 36).map((s) => ({ text: `ghp_${s}`, core: `ghp_${s}` })),
);
const filler = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\n', 'é', '.', ':') , maxLength: 20 });

describe('redaction', () => {
  it('no generated secret survives, wherever it sits in the text', () => {
    fc.assert(
      fc.property(filler, secrets, filler, (before, s, after) => {
        const out = redactValue(`${before} ${s.text} ${after}`);
        expect(out).not.toContain(s.core);
        expect(out).toContain(REDACTED);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps the text around a secret', () => {
    expect(redactValue('connect postgres://app:hunter22@db/x failed')).toBe(`connect postgres://app:${REDACTED}@db/x failed`);
    expect(redactValue('Authorization: Basic dXNlcjpwYXNz')).toBe(`Authorization: ${REDACTED}`);
  });

  it('leaves ordinary event text alone', () => {
    for (const s of [
      'User has incomplete claim with ORCID identity provider',
      'a@inst.edu',
      'Token validation of the bearer instrument failed',
      '2026-11-21T10:15:30.123Z',
      '1b4e28ba-2fa1-11d2-883f-0016d3cca427',
      'https://example.org/path?x=1',
      'verify_identity_provider_configuration_and_reclaim',
    ]) expect(redactValue(s)).toBe(s);
  });

  it('secret keys: any path segment, not auth_email; --redact-key adds patterns', () => {
    const m = secretKeyMatcher();
    for (const k of ['password', 'db.passwd', 'client_secret', 'api_key', 'apiKey', 'x.Authorization', 'cookie', 'aws.credentials', 'private_key', 'refresh_token'])
      expect(m(k), k).toBe(true);
    for (const k of ['auth_email', 'email', 'message', 'passport', 'category', 'event_id']) expect(m(k), k).toBe(false);
    for (const k of ['auth.key', 'x-api-key', 'sessionId', 'session_id', 'csrftoken', 'password_hash', 'Set-Cookie', 'client.secret']) expect(m(k), k).toBe(true);
    // Metrics and flags named after a secret are not secrets.
    for (const k of ['prompt_tokens', 'total_tokens', 'max_tokens', 'token_usage', 'token_usage.total', 'cookie_count', 'signature_valid', 'token_type', 'key', 'primary_key_count'])
      expect(m(k), k).toBe(false);
    expect(secretKeyMatcher({ keep: [/^refresh_token$/] })('refresh_token')).toBe(false);
    expect(secretKeyMatcher({ keys: [/^ssn$/i] })('person.SSN')).toBe(true);
  });
});
