// notify --successes: the run's created users, collected from its success events, rendered as
// one digest (the one standard template; docs/notify.md).
import { isPlainObject, obj, str, type JsonObject, type JsonValue } from '../event/event.js';
import { redactValue } from '../redact/redact.js';
import type { RenderedMessage } from './message.js';
import { bodyLine, headerSafe } from './safe-text.js';

/** The success outcomes a success notification is about: a user created (or ready to be) in Flywheel. */
const CREATED_OUTCOMES = ['created', 'claimed'] as const;

/** One created user, as the success notification shows it (docs/rules.md). */
export interface CreatedUser {
  email: string | null;
  name: string;
  center_id: JsonValue;
  registry_id: string | null;
  auth_email: string | null;
  timestamp: string | null;
  authorizations: Array<{ study_id: string; activities: string[] }>;
}

function authorizationsOf(v: JsonValue | undefined): CreatedUser['authorizations'] {
  if (!Array.isArray(v)) return [];
  const out: CreatedUser['authorizations'] = [];
  for (const a of v) {
    if (isPlainObject(a) && typeof a.study_id === 'string') {
      out.push({ study_id: a.study_id, activities: Array.isArray(a.activities) ? a.activities.filter((x): x is string => typeof x === 'string') : [] });
    }
  }
  return out;
}

/**
 * Collects the created users of a run from its success events: outcome `created` (the job's log)
 * or `claimed` (an entry ready to be created). One user reported by both (the entry and the log
 * line) is one user: the fields one lacks come from the other, the log's time (the creation) wins.
 */
export class CreatedUsers {
  private readonly users = new Map<string, CreatedUser>();

  add(event: JsonObject): boolean {
    if (event.event_type !== 'success') return false;
    const details = obj(event.details);
    const outcome = str(details.outcome);
    if (!outcome || !(CREATED_OUTCOMES as readonly string[]).includes(outcome)) return false;
    const uc = obj(event.user_context);
    const email = str(uc.email);
    const name = str(uc.name) ?? 'Unknown';
    const key = (email ?? name).trim().toLowerCase();
    const next: CreatedUser = {
      email,
      name,
      center_id: uc.center_id ?? null,
      registry_id: str(uc.registry_id),
      auth_email: str(uc.auth_email),
      timestamp: str(event.timestamp),
      authorizations: authorizationsOf(details.authorizations),
    };
    const known = this.users.get(key);
    if (!known) {
      this.users.set(key, next);
      return true;
    }
    if (known.name === 'Unknown') known.name = next.name;
    known.email ??= next.email;
    known.center_id ??= next.center_id;
    known.registry_id ??= next.registry_id;
    known.auth_email ??= next.auth_email;
    if (known.authorizations.length === 0) known.authorizations = next.authorizations;
    if (outcome === 'created' && next.timestamp) known.timestamp = next.timestamp;
    return true;
  }

  get size(): number {
    return this.users.size;
  }

  list(): CreatedUser[] {
    return [...this.users.values()].sort((a, b) => ((a.email ?? a.name) < (b.email ?? b.name) ? -1 : 1));
  }
}

/** --success-subject's default. */
export const DEFAULT_SUCCESS_SUBJECT = '[{job}] {success_count} users created';

/** The one standard template of a success notification (a digest of the run's created users). */
export function renderSuccessMessage(users: CreatedUser[], job: string, opts: { subject?: string } = {}): RenderedMessage {
  const n = users.length;
  const template = opts.subject ?? DEFAULT_SUCCESS_SUBJECT;
  const text0 = template === DEFAULT_SUCCESS_SUBJECT && n === 1 ? '[{job}] 1 user created' : template;
  const subject = headerSafe(redactValue(text0.replace(/\{job\}/g, job).replace(/\{success_count\}/g, String(n))));
  const out: string[] = [`Job: ${bodyLine(job)}`, `Users created: ${n}`, ''];
  for (const u of users) {
    out.push(bodyLine(`${u.name}${u.email ? ` <${u.email}>` : ''}`));
    out.push(bodyLine(`  Email: ${u.email ?? 'none'}`));
    if (u.auth_email && u.auth_email !== u.email) out.push(bodyLine(`  Login email: ${u.auth_email}`));
    out.push(bodyLine(`  Registry ID: ${u.registry_id ?? 'none'}`));
    out.push(bodyLine(`  Center: ${u.center_id === null ? 'none' : String(u.center_id)}`));
    out.push(bodyLine(`  Time: ${u.timestamp ?? 'unknown'}`));
    if (u.authorizations.length) {
      out.push('  Authorizations:');
      for (const a of u.authorizations) out.push(bodyLine(`    ${a.study_id}: ${a.activities.length ? a.activities.join(', ') : 'no activities listed'}`));
    } else {
      out.push('  Authorizations: none listed');
    }
    out.push('');
  }
  out.push('-- ', 'Sent by notify --successes (batch-events).');
  return {
    subject,
    text: out.join('\n') + '\n',
    headers: { 'X-Batch-Job': job, 'X-Batch-Success-Count': String(n) },
    job,
    errorCount: 0,
    exports: [],
  };
}
