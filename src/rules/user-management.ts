// The built-in `user-management` pack: the original job's checks (ActiveUserProcess.visit in its
// order, ClaimedUserProcess/UpdateUserProcess, the FailureAnalyzer methods, proactive checks
// 1b.1–1b.4) over directory entries, and the log message of every failure point.
import type { JsonObject } from '../event/event.js';
import type { EntryRule, Finding, LogRule, RegistryPerson, RuleResult, RulePack, SuccessInfo } from './types.js';

function hasOrcid(persons: readonly RegistryPerson[]): boolean {
  return persons.some((p) => p.org_identities.some((o) => o.toLowerCase() === 'orcid'));
}

function ids(persons: readonly RegistryPerson[]): JsonObject[keyof JsonObject] {
  return persons.map((p) => p.registry_id);
}

// The user-management rules (docs/rules.md): the three Flywheel outcomes of analyze_flywheel_user_creation_failure, from the error text.
const ALREADY_EXISTS = /already exists|duplicate|conflict/i;
const PERMISSION = /permission|unauthorized|forbidden/i;

/** The original job's analyze_flywheel_user_creation_failure, decided on the Flywheel error text. */
export function classifyFlywheelError(error: string): Finding {
  if (ALREADY_EXISTS.test(error)) {
    return { category: 'Duplicate/Wrong User Records', message: 'User already exists in Flywheel', action_needed: 'deactivate_duplicate_and_clear_cache', details: { flywheel_error: error } };
  }
  if (PERMISSION.test(error)) {
    return { category: 'Insufficient Permissions', message: 'Insufficient permissions to create user in Flywheel', action_needed: 'check_flywheel_service_account_permissions', details: { flywheel_error: error } };
  }
  return { category: 'Flywheel Error', message: 'Flywheel user creation failed after 3 attempts', action_needed: 'check_flywheel_logs_and_service_status', details: { error } };
}

const entryRules: EntryRule[] = [
  {
    on: 'entry',
    id: 'missing-directory-data',
    category: 'Missing Directory Data',
    description: 'A required entry field is missing or malformed (email, center_id/adcid, name, authorizations, active)',
    inactive: true,
    check: (e) =>
      e.problems.length > 0 && {
        message: `Directory entry is incomplete or malformed: ${e.problems.join('; ')}`,
        details: { problems: e.problems },
        stop: true,
      },
  },
  {
    on: 'entry',
    id: 'missing-auth-email',
    category: 'Missing Directory Permissions',
    description: 'Active entry has no auth_email (docs/rules.md: "User X must have authentication email")',
    action_needed: 'update_directory_auth_email',
    check: (e) =>
      e.auth_email === null && {
        message: 'User has no authentication email in directory',
        details: { directory_email: e.email },
        stop: true,
      },
  },
  {
    on: 'entry',
    id: 'auth-email-mismatch',
    category: 'Authentication Email Mismatch',
    description: 'Proactive 1b.1: auth_email differs from the directory email (case-insensitive)',
    always: true,
    check: (e) =>
      e.authEmailKey !== null &&
      e.emailKey !== null &&
      e.authEmailKey !== e.emailKey && {
        message: 'Authentication email differs from directory email',
        details: { directory_email: e.email, auth_email: e.auth_email },
      },
  },
  {
    on: 'entry',
    id: 'orcid-claim',
    category: 'Bad ORCID Claims',
    description: 'Proactive 1b.3: not in the registry by auth_email, and a bad claim under the name has an ORCID org identity',
    action_needed: 'delete_bad_record_and_reclaim_with_institutional_idp',
    check: (e, ctx) => {
      if (!ctx.registry.loaded || ctx.persons.length) return null;
      const bad = ctx.registry.badClaims(e.name);
      return (
        bad.length > 0 &&
        hasOrcid(bad) && {
          message: 'User has incomplete claim with ORCID identity provider',
          details: { full_name: e.name, has_orcid_org_identity: true, bad_claim_registry_ids: ids(bad) },
          stop: true,
        }
      );
    },
  },
  {
    on: 'entry',
    id: 'incomplete-claim',
    category: 'Incomplete Claim',
    description: 'Not in the registry by auth_email, and a claimed person without email has the same name (no ORCID)',
    action_needed: 'verify_identity_provider_configuration_and_reclaim',
    check: (e, ctx) => {
      if (!ctx.registry.loaded || ctx.persons.length) return null;
      const bad = ctx.registry.badClaims(e.name);
      return (
        bad.length > 0 &&
        !hasOrcid(bad) && {
          message: 'User has incomplete claim (identity provider did not return email)',
          details: { full_name: e.name, has_orcid_org_identity: false, bad_claim_registry_ids: ids(bad) },
          stop: true,
        }
      );
    },
  },
  {
    on: 'entry',
    id: 'no-creation-date',
    category: 'Unclaimed Records',
    description: 'Registry persons found for auth_email, none with a creation date',
    action_needed: 'check_registry_record_status',
    check: (_e, ctx) =>
      ctx.persons.length > 0 &&
      !ctx.persons.some((p) => p.creation_date !== null) && {
        message: 'Registry record exists but has no creation date',
        details: { registry_records: ctx.persons.length },
        stop: true,
      },
  },
  {
    on: 'entry',
    id: 'no-registry-id',
    category: 'Unclaimed Records',
    description: 'A claimed person was found but none has a registry ID',
    action_needed: 'check_registry_id_assignment',
    check: (_e, ctx) =>
      ctx.claimed.length > 0 &&
      !ctx.claimed.some((p) => p.registry_id !== null) && {
        message: 'User appears claimed but has no registry ID',
        details: { claimed_records: ctx.claimed.length },
        stop: true,
      },
  },
  {
    on: 'entry',
    id: 'several-claimed-persons',
    category: 'Duplicate/Wrong User Records',
    description: 'The auth_email matches several claimed registry persons',
    check: (_e, ctx) => {
      if (ctx.claimed.length < 2) return null;
      const distinct = new Set(ctx.claimed.map((p) => p.registry_id));
      return distinct.size > 1 && { message: `Authentication email matches ${distinct.size} claimed registry records`, details: { registry_ids: [...distinct] } };
    },
  },
  {
    on: 'entry',
    id: 'registry-id-not-found',
    category: 'Missing Registry Data',
    description: "The entry's registry_id is not in the registry snapshot (docs/rules.md: analyze_missing_claimed_user; a bad claim under the name is reported by the claim rules instead)",
    action_needed: 'verify_registry_record_exists_or_was_deleted',
    always: true,
    check: (e, ctx): RuleResult => {
      if (!ctx.registry.loaded || e.registry_id === null || ctx.registry.byRegistryId(e.registry_id) !== undefined) return null;
      const checked = { registry_id: e.registry_id, checked_email: e.auth_email ?? e.email, checked_name: e.name };
      if (ctx.persons.length) {
        // The original user-management job raised here ("should never happen"); a batch job reports it and goes on.
        return {
          message: `Registry data inconsistency: user ${e.auth_email ?? e.email} found by email (registry IDs ${ctx.persons.map((p) => p.registry_id ?? 'none').join(', ')}) but not by registry ID ${e.registry_id}`,
          details: { ...checked, found_by_email: ids(ctx.persons) },
        };
      }
      // The user-management rules (docs/rules.md): a bad claim under the name explains it; the incomplete-claim event alone is returned.
      if (ctx.registry.badClaims(e.name).length > 0) return null;
      return { message: 'Expected claimed user not found in registry by ID, email, or bad claims', details: { ...checked, found_by_email: [] } };
    },
  },
  {
    on: 'entry',
    id: 'unverified-email',
    category: 'Unverified Email',
    description: 'Proactive 1b.2: the claimed registry person has no email, or none verified',
    action_needed: 'check_email_verification_in_comanage',
    check: (_e, ctx): RuleResult => {
      const p = ctx.person;
      if (!p) return null;
      if (p.emails.length === 0) return { message: 'Registry record found but has no email address', details: { registry_id: p.registry_id } };
      if (p.emails.some((m) => m.verified)) return null;
      return { message: 'Registry record has no verified email address', details: { registry_id: p.registry_id, unverified_emails: p.emails.map((m) => m.mail) } };
    },
  },
  {
    on: 'entry',
    id: 'no-authorizations',
    category: 'Insufficient Permissions',
    description: 'Proactive 1b.4: the entry lists no authorizations',
    action_needed: 'contact_center_administrator_for_permissions',
    always: true,
    check: (e) =>
      (e.authorizations === null || e.authorizations.length === 0) && {
        message: 'User entry has no authorizations listed',
        details: { registry_id: e.registry_id },
      },
  },
  {
    on: 'entry',
    id: 'duplicate-entry',
    category: 'Duplicate/Wrong User Records',
    description: 'Two active entries share an email or a registry ID (the later one is reported)',
    always: true,
    check: (e, ctx) => {
      // Runs for every entry and almost always finds nothing: no list until there is a finding.
      let out: Finding[] | null = null;
      if (e.emailKey !== null) {
        const first = ctx.remember('email', e.emailKey);
        if (first) (out ??= []).push({ message: `Another active entry has the same email (${first.file}:${first.line})`, details: { duplicate_of: `${first.file}:${first.line}`, shared: 'email' } });
      }
      if (e.registry_id !== null) {
        const first = ctx.remember('registry_id', e.registry_id);
        if (first) (out ??= []).push({ message: `Another active entry has the same registry ID (${first.file}:${first.line})`, details: { duplicate_of: `${first.file}:${first.line}`, shared: 'registry_id' } });
      }
      return out;
    },
  },
];

function logRule(id: string, category: string, description: string, pattern: RegExp, finding: (m: RegExpExecArray) => Finding, extra: Partial<LogRule> = {}): LogRule {
  return { on: 'log', id, category, description, pattern, classify: (m) => finding(m), ...extra };
}

const logRules: LogRule[] = [
  logRule('log-missing-auth-email', 'Missing Directory Permissions', 'Log: "User X must have authentication email"',
    /^User (?<email>\S+) must have authentication email$/,
    () => ({ message: 'User has no authentication email in directory', action_needed: 'update_directory_auth_email' })),
  logRule('log-incomplete-claim', 'Incomplete Claim', 'Log: "Active user has incomplete claim: NAME, EMAIL" (Bad ORCID Claims when --registry shows an ORCID bad claim)',
    /^Active user has incomplete claim: (?<name>.+), (?<email>\S+)$/,
    () => ({ message: 'User has incomplete claim (identity provider did not return email)', action_needed: 'verify_identity_provider_configuration_and_reclaim' }),
    {
      classify: (m, _line, ctx) => {
        const bad = ctx.registry.badClaims(m.groups!.name!);
        if (bad.length && hasOrcid(bad)) {
          return { category: 'Bad ORCID Claims', message: 'User has incomplete claim with ORCID identity provider', action_needed: 'delete_bad_record_and_reclaim_with_institutional_idp', details: { has_orcid_org_identity: true } };
        }
        return { message: 'User has incomplete claim (identity provider did not return email)', action_needed: 'verify_identity_provider_configuration_and_reclaim' };
      },
    }),
  logRule('log-no-creation-date', 'Unclaimed Records', 'Log: "person record for X has no creation date"',
    /^person record for (?<email>\S+) has no creation date$/,
    () => ({ message: 'Registry record exists but has no creation date', action_needed: 'check_registry_record_status' })),
  logRule('log-no-registry-id', 'Unclaimed Records', 'Log: "User X has no registry ID"',
    /^User (?<email>\S+) has no registry ID$/,
    () => ({ message: 'User appears claimed but has no registry ID', action_needed: 'check_registry_id_assignment' })),
  logRule('log-add-user-failed', 'Flywheel Error', 'Log: "Unable to add user X with ID Y: ERROR" (permission → Insufficient Permissions, already exists → Duplicate/Wrong User Records)',
    /^Unable to add user (?<email>\S+) with ID (?<registry_id>\S+): (?<error>.*)$/,
    (m) => classifyFlywheelError(m.groups!.error!)),
  logRule('log-claimed-user-missing', 'Missing Registry Data', 'Log: "Failed to find a claimed user with Registry ID Y and email X"',
    /^Failed to find a claimed user with Registry ID (?<registry_id>\S+) and email (?<email>\S+)$/,
    () => ({ message: 'Expected claimed user not found in registry by ID, email, or bad claims', action_needed: 'verify_registry_record_exists_or_was_deleted' })),
  logRule('log-user-not-in-flywheel', 'Unclaimed Records', 'Log: "Failed to add user X with ID Y" (user missing in Flywheel after creation)',
    /^Failed to add user (?<email>\S+) with ID (?<registry_id>\S+)$/,
    () => ({ message: 'User should exist in Flywheel but was not found - indicates earlier creation failure', action_needed: 'check_user_creation_process_logs' })),
  logRule('log-registry-no-email', 'Unverified Email', 'Log: "Registry record does not have email address: Y"',
    /^Registry record does not have email address: (?<registry_id>\S+)$/,
    () => ({ message: 'Registry record found but has no email address', action_needed: 'check_email_verification_in_comanage' })),
  logRule('log-user-added-to-registry', 'User Successfully Created', 'Log (success): "Added user X to registry using email Y"',
    /^Added user (?<email>\S+) to registry using email (?<auth_email>\S+)$/,
    () => ({ message: 'User added to registry; claim email sent', event_type: 'success', details: { outcome: 'added_to_registry' } }), { event_type: 'success' }),
  logRule('log-user-created', 'User Successfully Created', 'Log (success): "Created user X [with ID Y]", "Added user X with ID Y"',
    /^(?:Created|Added) (?:Flywheel )?user (?<email>\S+?)(?: with ID (?<registry_id>\S+?))?\.?$/,
    () => ({ message: 'User successfully created', event_type: 'success', details: { outcome: 'created' } }), { event_type: 'success' }),
];

/** The pack `process` uses by default; a custom pack has exactly this shape. */
export const userManagementPack: RulePack = {
  name: 'user-management',
  description: "User-management detection (docs/rules.md): directory entries joined with a registry snapshot, and the job's log lines",
  success_category: 'User Successfully Created',
  success(entry, ctx): SuccessInfo {
    if (!entry.active) return { message: 'Inactive entry: account checks do not apply', details: { outcome: 'inactive' } };
    if (!ctx.registry.loaded) return { message: 'Directory entry passed every check (no registry snapshot given)', details: { outcome: 'checked' } };
    if (ctx.persons.length === 0) return { message: 'User not in registry yet: to be added, and a claim email sent', details: { outcome: 'added_to_registry' } };
    // The user-management rules (docs/rules.md): a registry record nobody has claimed yet is queued for the claim email, not an error.
    if (ctx.claimed.length === 0) return { message: 'Registry record not claimed yet: waiting for the user to claim it', details: { outcome: 'awaiting_claim', registry_ids: ids(ctx.persons) } };
    return { message: 'User is claimed in the registry and ready to be created in Flywheel', details: { outcome: 'claimed', registry_id: ctx.person?.registry_id ?? null } };
  },
  rules: [...entryRules, ...logRules],
};
