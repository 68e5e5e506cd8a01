import { describe, expect, it } from 'vitest';
import { expandEnv, isSecretVariable } from '../../src/config/expand-env.js';

describe('isSecretVariable: a word of the name says it holds a secret', () => {
  it.each([
    ['GITHUB_TOKEN', true],
    ['PREFECT_API_KEY', true],
    ['PREFECT_API_AUTH_STRING', true],
    ['AWS_SECRET_ACCESS_KEY', true],
    ['DB_PASSWD', true],
    ['SMTP_PASS', true],
    ['GCP_CREDENTIALS', true],
    ['SENTRY_DSN', true],
    ['AZURE_STORAGE_CONNECTION_STRING', true],
    ['TLS_CERT', true],
    ['sessionCookie', true],
    ['MYSQL_PWD', true],
    ['PWD', false],
    ['TEAM', false],
    ['KEYCLOAK_URL', false],
    ['MONKEY', false],
    ['AUTHOR', false],
  ])('%s secret by its name: %s', (name, secret) => {
    expect(isSecretVariable(name, {})).toBe(secret);
  });

  it('LOLPOP_DEPLOY_SECRETS marks names, separated by commas or spaces', () => {
    const env = { LOLPOP_DEPLOY_SECRETS: 'A_VALUE,  OTHER B' };
    expect(['A_VALUE', 'OTHER', 'B', 'C'].map((name) => isSecretVariable(name, env))).toEqual([true, true, true, false]);
  });
});

describe('expandEnv', () => {
  it('returns the secret values only, and warns once per too-short secret', () => {
    const env = { HF_TOKEN: 'hf_0123', TEAM: 'ml', API_KEY: 'abc', EMPTY_TOKEN: '' };
    expect(expandEnv('${TEAM}/${HF_TOKEN}/${API_KEY}/${EMPTY_TOKEN}/$${TEAM}', env)).toEqual({
      value: 'ml/hf_0123/abc//${TEAM}',
      secrets: ['hf_0123'],
      missing: [],
      warnings: ['${API_KEY} is secret but only 3 characters long: values shorter than 4 are never masked'],
    });
  });
});
