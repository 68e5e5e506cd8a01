import { describe, expect, it } from 'vitest';
import { compareVersions, imageProblems, parseImageVersions, requestedLolpop } from '../../src/packaging/image-check.js';

describe('the package-time image check', () => {
  it('reads what the image printed', () => {
    expect(parseImageVersions('noise\n{"python": "3.11.2", "prefect": "2.20.27", "lolpop": "0.2.0"}\n')).toEqual({ python: '3.11.2', prefect: '2.20.27', lolpop: '0.2.0' });
    expect(() => parseImageVersions('Traceback …')).toThrow(/^Failed to read the image's versions: its python printed "Traceback …"$/);
  });

  it('knows which lolpop the install line asks for', () => {
    expect(requestedLolpop("'lolpop[prefect,mlflow,xgboost]>=0.2.0'")).toEqual({ minimum: '0.2.0' });
    expect(requestedLolpop("'lolpop[cli,prefect,mlflow,xgboost]'")).toEqual({ minimum: '0.2.0' });
    expect(requestedLolpop('lolpop==0.2.0 scikit-learn')).toEqual({ exact: '0.2.0' });
    expect(requestedLolpop('')).toBeUndefined();
    expect(requestedLolpop('prefect_files/lolpop-testing.tar.gz[cli,prefect]')).toBeUndefined();
  });

  it('lolpop 0.1.0a2 on Python 3.12 (what pip picks there) fails in one line that says what to change', () => {
    const problems = imageProblems('qs:1', { python: '3.12.7', prefect: '2.6.6', lolpop: '0.1.0a2' }, { lolpop: { minimum: '0.2.0' } });
    expect(problems).toEqual([
      'qs:1 has lolpop 0.1.0a2, not lolpop 0.2.0 or newer (lolpop 0.2.0 needs Python < 3.12; the image has Python 3.12.7: use base_image prefecthq/prefect:2-python3.11)',
    ]);
  });

  it("the image's Prefect major must be the server's", () => {
    expect(imageProblems('qs:1', { python: '3.11.2', prefect: '3.8.8', lolpop: null }, { serverPrefect: '2.20.27' })).toEqual([
      'qs:1 has Prefect 3.8.8 but the server runs Prefect 2.20.27: flow runs would fail in the image; use a Prefect 2 base image',
    ]);
    expect(imageProblems('qs:1', { python: '3.11.2', prefect: '2.20.27', lolpop: '0.2.0' }, { lolpop: { minimum: '0.2.0' }, serverPrefect: '3.8.8' })).toEqual([
      'qs:1 has Prefect 2.20.27 but the server runs Prefect 3.8.8: flow runs would fail in the image; use a Prefect 3 base image (lolpop 0.2.0 itself needs Prefect 2)',
    ]);
    expect(imageProblems('qs:1', { python: '3.11.2', prefect: '2.20.27', lolpop: '0.2.0' }, { lolpop: { exact: '0.2.0' }, serverPrefect: '2.20.3' })).toEqual([]);
  });

  it('compares versions numerically, pre-releases first', () => {
    expect(compareVersions('0.1.0a2', '0.2.0')).toBeLessThan(0);
    expect(compareVersions('0.2.0a1', '0.2.0')).toBeLessThan(0);
    expect(compareVersions('0.10.0', '0.2.0')).toBeGreaterThan(0);
    expect(compareVersions('0.2.0', '0.2')).toBe(0);
  });
});
