// The bad-input corpus: one folder per case, each with a case.json manifest (and small inputs).
// Big or binary inputs are described by `generate` and written at test time, never committed.
// `node test/reliability/corpus/cases.mjs` prints the table of cases (id, title, expectation).
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const CORPUS_DIR = dirname(fileURLToPath(import.meta.url));

/** Every case.json under the corpus folder, sorted by folder name. */
export function loadCases(dir = CORPUS_DIR) {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => ({ ...JSON.parse(readFileSync(join(dir, name, 'case.json'), 'utf8')), dir: join(dir, name) }));
}

const CHUNK = 1 << 20;

/**
 * Writes one generated input: a list of parts, each {text}, {hex: "ff fe 00"} or
 * {repeat: "x", times: N} (written in 1 MiB pieces, so a 100 MB line costs no 100 MB string).
 */
export function writeGenerated(path, parts) {
  const fd = openSync(path, 'w');
  try {
    for (const part of parts) {
      if (part.text !== undefined) writeSync(fd, Buffer.from(part.text, 'utf8'));
      else if (part.hex !== undefined) writeSync(fd, Buffer.from(part.hex.replace(/\s+/g, ''), 'hex'));
      else if (part.repeat !== undefined) {
        const unit = Buffer.from(part.repeat, 'utf8');
        const per = Math.max(1, Math.floor(CHUNK / unit.length));
        const block = Buffer.concat(Array(Math.min(per, part.times)).fill(unit));
        let left = part.times;
        while (left > 0) {
          const n = Math.min(left, per);
          writeSync(fd, n === per || n * unit.length === block.length ? block : block.subarray(0, n * unit.length));
          left -= n;
        }
      } else throw new Error(`${path}: a generate part needs text, hex or repeat`);
    }
  } finally {
    closeSync(fd);
  }
}

function cell(text) {
  return String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = loadCases().map((c) => `| ${c.id} | ${c.binary} | ${cell(c.title)} | ${cell(c.expectation)} |`);
  process.stdout.write(['| id | binary | bad input | what must happen |', '|---|---|---|---|', ...rows].join('\n') + '\n');
}
