// The one reader of non-string option values: each mistake is a usage error naming the flag.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { charOption, durationOption, intOption, listOption } from '../../../src/cli/options.js';
import { UsageError } from '../../../src/cli/errors.js';

describe('cli/options', () => {
  it('listOption: repeated flags and comma lists give one trimmed list; empty items dropped unless kept', () => {
    expect(listOption(['a,b', ' c ', 'd, ,e'])).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(listOption([])).toEqual([]);
    expect(listOption(['a,,b'], true)).toEqual(['a', '', 'b']);
  });

  it('listOption: any items without commas come back as given, in order (property)', () => {
    const item = fc.string({ minLength: 1 }).filter((s) => !s.includes(',') && s.trim() === s && s !== '');
    fc.assert(
      fc.property(fc.array(fc.array(item, { minLength: 1, maxLength: 4 }), { maxLength: 5 }), (groups) => {
        expect(listOption(groups.map((g) => g.join(',')))).toEqual(groups.flat());
      }),
      { numRuns: 200 },
    );
  });

  it('intOption: whole numbers of at least min; absent is undefined; anything else names the flag', () => {
    expect(intOption('max-bad', undefined)).toBeUndefined();
    expect(intOption('max-bad', ' 12 ')).toBe(12);
    expect(intOption('max-line-bytes', '1', 1)).toBe(1);
    expect(() => intOption('max-line-bytes', '0', 1)).toThrow('invalid --max-line-bytes: must be a whole number of at least 1, got "0"');
    expect(() => intOption('max-bad', '-1')).toThrow('invalid --max-bad: must be a whole number of 0 or more, got "-1"');
    expect(() => intOption('max-bad', '1.5')).toThrow(UsageError);
  });

  it('durationOption: 250ms, 30s, 5m, 4h, 2d (a bare number is seconds); zero or text names the flag', () => {
    expect(durationOption('timeout', '250ms', '1s')).toBe(250);
    expect(durationOption('timeout', undefined, '5m')).toBe(300_000);
    expect(durationOption('timeout', '2', '1s')).toBe(2000);
    expect(() => durationOption('timeout', '0s', '1s')).toThrow('invalid --timeout: must be a duration such as 30s, 5m or 4h, got "0s"');
    expect(() => durationOption('lock-timeout', 'soon', '1s')).toThrow(/invalid --lock-timeout/);
  });

  it('charOption: \\t and tab for a tab; refuses two characters and line breaks', () => {
    expect(charOption('delimiter', '\\t')).toBe('\t');
    expect(charOption('delimiter', 'tab')).toBe('\t');
    expect(charOption('delimiter', ';')).toBe(';');
    expect(() => charOption('delimiter', ';;')).toThrow('invalid --delimiter: must be one character (\\t for a tab), got ";;"');
    expect(() => charOption('quote', '\n')).toThrow(/invalid --quote/);
  });
});
