// The layering of src/ (each folder's README.md says what it may import): commands → domains →
// stream/cli, one way. `npx depcruise src` checks it; test/unit/layering.test.ts runs it in `npm test`.
const DOMAINS = 'event|csv|redact|durable|summary|notify|rules';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module cycle: the two sides can no longer be read, tested or loaded apart.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'base-imports-no-domain',
      severity: 'error',
      comment: 'cli/ and stream/ are the base every domain builds on: they import no domain, parallel/ or commands/.',
      from: { path: '^src/(cli|stream)/' },
      to: { path: `^src/(${DOMAINS}|parallel|commands)/` },
    },
    {
      name: 'event-is-the-first-domain',
      severity: 'error',
      comment: 'event/ is the v1 wire format the other domains are written against: it imports only cli/ and stream/.',
      from: { path: '^src/event/' },
      to: { path: `^src/(${DOMAINS}|parallel|commands)/`, pathNot: '^src/event/' },
    },
    {
      name: 'domains-import-no-command',
      severity: 'error',
      comment: 'A domain is used by commands, never the reverse; the library entry (index.ts) is for users only.',
      from: { path: `^src/(${DOMAINS}|parallel|cli|stream)/` },
      to: { path: ['^src/commands/', '^src/index\\.ts$'] },
    },
    {
      name: 'domains-import-no-parallel',
      severity: 'error',
      comment: 'parallel/ runs commands\' work on worker threads: commands import it, it imports the domains.',
      from: { path: `^src/(${DOMAINS})/` },
      to: { path: '^src/parallel/' },
    },
    {
      name: 'only-commands-import-notify-and-rules',
      severity: 'error',
      comment: 'notify/ and rules/ are the top domains of one binary each (notify, process).',
      from: { path: '^src/', pathNot: ['^src/commands/', '^src/index\\.ts$', '^src/(notify|rules|parallel)/'] },
      to: { path: '^src/(notify|rules)/' },
    },
    {
      name: 'commands-import-no-other-command',
      severity: 'error',
      comment: 'One binary, one module: what two commands share belongs in a domain.',
      from: { path: '^src/commands/([^/.]+)', pathNot: '^src/commands/index\\.ts$' },
      to: { path: '^src/commands/', pathNot: '^src/commands/$1' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
