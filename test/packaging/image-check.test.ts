import { describe, expect, it } from 'vitest';
import { imageProblems, parseImageVersions, requestedLolpop } from '../../src/packaging/image-check.js';

describe('the package-time image check', () => {
  it('reads what the image printed', () => {
    expect(parseImageVersions('noise\n{"python": "3.11.2", "prefect": "2.20.27", "lolpop": "0.2.0"}\n')).toEqual({ python: '3.11.2', prefect: '2.20.27', lolpop: '0.2.0' });
    expect(() => parseImageVersions('Traceback …')).toThrow(/^Failed to read the image's versions: its python printed "Traceback …"$/);
  });

  it('knows which lolpop the install line asks for', () => {
    expect(requestedLolpop("'lolpop[prefect,mlflow,xgboost]>=0.2.0'")).toBe('>=0.2.0');
    expect(requestedLolpop("'lolpop[cli,prefect,mlflow,xgboost]'")).toBe('>=0.2.0');
    expect(requestedLolpop('lolpop==0.2.0 scikit-learn')).toBe('==0.2.0');
    expect(requestedLolpop("'lolpop>=0.2,<0.3'")).toBe('>=0.2,<0.3');
    expect(requestedLolpop('')).toBeUndefined();
    expect(requestedLolpop('prefect_files/lolpop-testing.tar.gz[cli,prefect]')).toBeUndefined();
  });

  it('lolpop 0.1.0a2 on Python 3.12 (what pip picks there) fails in one line that says what to change', () => {
    const problems = imageProblems('qs:1', { python: '3.12.7', prefect: '2.6.6', lolpop: '0.1.0a2' }, { lolpop: '>=0.2.0' });
    expect(problems).toEqual([
      'qs:1 has lolpop 0.1.0a2, not lolpop>=0.2.0 (lolpop 0.2.0 needs Python < 3.12; the image has Python 3.12.7: use base_image prefecthq/prefect:2-python3.11)',
    ]);
  });

  it("the image's Prefect major must be the server's", () => {
    expect(imageProblems('qs:1', { python: '3.11.2', prefect: '3.8.8', lolpop: null }, { serverPrefect: '2.20.27' })).toEqual([
      'qs:1 has Prefect 3.8.8 but the server runs Prefect 2.20.27: flow runs would fail in the image; use a Prefect 2 base image',
    ]);
    expect(imageProblems('qs:1', { python: '3.11.2', prefect: '2.20.27', lolpop: '0.2.0' }, { lolpop: '>=0.2.0', serverPrefect: '3.8.8' })).toEqual([
      'qs:1 has Prefect 2.20.27 but the server runs Prefect 3.8.8: flow runs would fail in the image; use a Prefect 3 base image (lolpop 0.2.0 itself needs Prefect 2)',
    ]);
    expect(imageProblems('qs:1', { python: '3.11.2', prefect: '2.20.27', lolpop: '0.2.0' }, { lolpop: '==0.2.0', serverPrefect: '2.20.3' })).toEqual([]);
  });

  // Each row: the image's lolpop, what the install line asks for, whether the image is refused.
  it.each([
    ['0.2.0.post1', '>=0.2.0', false], // a post-release is newer (the hand-written comparison had it older)
    ['0.2.0', '==0.2', false], // 0.2 and 0.2.0 are the same version
    ['0.2.0+local.1', '==0.2.0', false], // a local version matches its public one
    ['0.2.0rc1', '>=0.2.0', true], // a pre-release comes before its release
    ['0.1.0a2', '>=0.2.0', true], // what pip picks on Python 3.12
    ['0.10.0', '>=0.2.0', false], // numerically, not as text
    ['0.3.0', '>=0.2,<0.3', true],
  ] as const)('lolpop %s against %s: refused %s (PEP 440)', (have, asked, refused) => {
    const problems = imageProblems('qs:1', { python: '3.11.2', prefect: '2.20.27', lolpop: have }, { lolpop: asked });
    expect(problems.length > 0).toBe(refused);
  });
});
