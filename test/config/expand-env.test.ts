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

  it('a password written into a URL is a secret whatever its variable is called', () => {
    const env = { DATABASE_URL: 'postgres://ml:s3cr%40t@db:5432/models', TRACKING_URI: 'http://mlflow:5000' };
    const { value, secrets } = expandEnv('db=${DATABASE_URL} tracking=${TRACKING_URI}', env);
    expect(value).toBe('db=postgres://ml:s3cr%40t@db:5432/models tracking=http://mlflow:5000');
    // As written and decoded; the user name and a URL without userinfo are left alone.
    expect(secrets).toEqual(['s3cr%40t', 's3cr@t']);
  });
});
