import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, parseDuration } from '../src/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90', 90_000],
    ['90s', 90_000],
    ['1500ms', 1500],
    ['30m', 1_800_000],
    ['1.5h', 5_400_000],
    ['1h30m', 5_400_000],
    ['1h 30m', 5_400_000],
    ['2m30s', 150_000],
    ['1d', 86_400_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text, 'wait_timeout')).toBe(ms);
  });

  it.each(['', 'soon', '1x', '-5s', 'h', '1h30'])("'%s' is refused, naming the key", (text) => {
    expect(() => parseDuration(text, 'wait_timeout')).toThrow(/^wait_timeout: .* is not a duration; expected e\.g\. 90s, 30m, 1h30m/);
  });

  it('refuses what a timer cannot wait for instead of firing at once', () => {
    expect(parseDuration('24d', 'k')).toBeLessThanOrEqual(MAX_DURATION_MS);
    expect(() => parseDuration('25d', 'poll_interval')).toThrow(/poll_interval: '25d' is longer than the 24 days/);
    expect(() => parseDuration('600h', 'poll_interval')).toThrow(/longer than/);
  });
});
