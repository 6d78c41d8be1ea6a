// The worked custom pack of site-policy.mjs, written in TypeScript (see docs/rules.md): the
// compiler checks the rules against the RulePack interface. Use one or the other, not both
// (they define the same rule ids):
//   process --rules user-management --rules examples/rules/site-policy.ts directory.ndjson
// `process` loads a .ts/.mts pack through tsx, which strips the types without checking them;
// `tsc --noEmit` is what checks them.
import type { DirectoryEntry, Finding, RulePack } from 'batch-events';

// Training that expired before this date is reported.
const TRAINING_VALID_FROM = Date.parse('2026-01-01T00:00:00Z');

function retiredMailDomain(entry: DirectoryEntry): Finding | null {
  if (!entry.authEmailKey?.endsWith('@legacy.example.edu')) return null;
  return {
    message: 'Authentication email is on a retired domain',
    action_needed: 'update_directory_auth_email',
    details: { auth_email: entry.auth_email },
  };
}

function trainingExpired(entry: DirectoryEntry): Finding | null {
  const until = entry.raw.training_expires;
  if (typeof until !== 'string' || Date.parse(until) >= TRAINING_VALID_FROM) return null;
  return { message: `Training expired on ${until}`, details: { training_expires: until } };
}

const pack: RulePack = {
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
      check: retiredMailDomain,
    },
    {
      on: 'entry',
      id: 'training-expired',
      category: 'Expired Training',
      description: 'training_expires (ISO date) is in the past',
      check: trainingExpired,
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

export default pack;
