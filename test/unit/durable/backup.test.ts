import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { tempDir } from '../../helpers/run.js';
import { backupFile, backupStamp, listBackupsOf } from '../../../src/durable/backup.js';

describe('backupFile', () => {
  it('returns null and creates nothing when the file does not exist', async () => {
    const dir = tempDir();
    expect(await backupFile(join(dir, 'ledger.csv'), 5)).toBeNull();
    expect(existsSync(join(dir, 'backups'))).toBe(false);
  });

  it('copies the file to backups/<name>.<UTC stamp> with identical content', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    writeFileSync(path, 'id;STATUS\n1;COMPLETED\n');
    const copy = await backupFile(path, 5);
    expect(copy).not.toBeNull();
    expect(basename(copy!)).toMatch(/^ledger\.csv\.\d{8}T\d{9}Z(-\d+)?$/);
    expect(readFileSync(copy!, 'utf8')).toBe('id;STATUS\n1;COMPLETED\n');
    expect(readdirSync(join(dir, 'backups'))).toEqual([basename(copy!)]);
  });

  it('keeps only the newest N, never touches other files, and gives same-millisecond copies distinct names', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    mkdirSync(join(dir, 'backups'));
    writeFileSync(join(dir, 'backups', 'notes.txt'), 'mine');
    writeFileSync(join(dir, 'backups', 'other.csv.20200101T000000000Z'), 'other file');
    const made: string[] = [];
    for (let i = 0; i < 12; i++) {
      writeFileSync(path, `version ${i}\n`);
      made.push((await backupFile(path, 5))!);
    }
    expect(new Set(made).size).toBe(12);
    const kept = await listBackupsOf(path);
    expect(kept).toHaveLength(5);
    expect(kept.map((p) => readFileSync(p, 'utf8'))).toEqual(['version 11\n', 'version 10\n', 'version 9\n', 'version 8\n', 'version 7\n']);
    const names = readdirSync(join(dir, 'backups'));
    expect(names).toContain('notes.txt');
    expect(names).toContain('other.csv.20200101T000000000Z');
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('concurrent backups of one file all succeed with distinct names', async () => {
    const dir = tempDir();
    const path = join(dir, 'ledger.csv');
    writeFileSync(path, 'x\n');
    const made = await Promise.all(Array.from({ length: 8 }, () => backupFile(path, 100)));
    expect(new Set(made).size).toBe(8);
  });

  it('stamps are UTC, sortable, with milliseconds', () => {
    expect(backupStamp(new Date('2026-11-21T10:15:30.123Z'))).toBe('20261121T101530123Z');
  });
});
