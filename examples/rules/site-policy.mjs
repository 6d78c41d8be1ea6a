// A worked custom rule pack (see docs/rules.md): one entry rule with its own category, one
// that reuses a seed 001 category, and one log rule. Use it with
//   process --rules user-management --rules examples/rules/site-policy.mjs directory.ndjson

/** @type {import('../../src/rules/types.js').RulePack} */
export default {
  name: 'site-policy',
  description: 'Local rules of one center: retired mail domain, expired training, quota log lines',
  // Categories beyond seed 001's, with the action each needs by default.
  categories: { 'Expired Training': 'ask_user_to_renew_training' },
  rules: [
    {
      on: 'entry',
      id: 'retired-mail-domain',
      category: 'Authentication Email Mismatch',
      description: 'auth_email is on the retired legacy.example.edu domain',
      always: true,
      check(entry) {
        if (!entry.authEmailKey?.endsWith('@legacy.example.edu')) return null;
        return {
          message: 'Authentication email is on a retired domain',
          action_needed: 'update_directory_auth_email',
          details: { auth_email: entry.auth_email },
        };
      },
    },
    {
      on: 'entry',
      id: 'training-expired',
      category: 'Expired Training',
      description: 'training_expires (ISO date) is in the past',
      check(entry) {
        const until = entry.raw.training_expires;
        if (typeof until !== 'string' || Date.parse(until) >= Date.parse('2026-01-01T00:00:00Z')) return null;
        return { message: `Training expired on ${until}`, details: { training_expires: until } };
      },
    },
    {
      on: 'log',
      id: 'quota-exceeded',
      category: 'Flywheel Error',
      description: 'Log: "Quota exceeded for EMAIL"',
      pattern: /^Quota exceeded for (?<email>\S+)$/,
      classify: () => ({ message: 'Flywheel storage quota exceeded', action_needed: 'raise_flywheel_quota' }),
    },
  ],
};
