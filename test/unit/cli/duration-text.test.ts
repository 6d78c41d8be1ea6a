import { describe, expect, it } from 'vitest';
import { durationText } from '../../../src/cli/duration.js';

describe('durationText: the run span the email and the report show', () => {
  it('seconds, minutes, hours, then days past 48 hours; nothing for a negative or unknown span', () => {
    expect(durationText(3_706)).toBe('4s');
    expect(durationText(200_000)).toBe('3m 20s');
    expect(durationText((5 * 60 + 12) * 60_000)).toBe('5h 12m');
    expect(durationText(241 * 3_600_000)).toBe('10d 1h');
    expect(durationText(-1)).toBe('');
    expect(durationText(Number.NaN)).toBe('');
  });
});
