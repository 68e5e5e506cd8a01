import { describe, expect, it } from 'vitest';
import { printableUrl, splitCredentials } from '../../src/http/url-credentials.js';

describe('credentials in URLs', () => {
  it('leave the URL: decoded credentials, the password as decoded and as written for redaction', () => {
    expect(splitCredentials('https://ci%20bot:p%40ss@airflow.example.com:8080/api/v2/')).toEqual({
      url: 'https://airflow.example.com:8080/api/v2',
      credentials: { username: 'ci bot', password: 'p@ss' },
      secrets: ['p@ss', 'p%40ss'],
    });
    expect(splitCredentials('http://prefect:4200/api/')).toEqual({ url: 'http://prefect:4200/api', secrets: [] });
  });

  it('are never printed, even from text that is not a URL', () => {
    expect(printableUrl('http://user:pw@host/api?x=1')).toBe('http://host/api?x=1');
    expect(printableUrl('http://host/api')).toBe('http://host/api');
    expect(printableUrl('http://user:p w@ho st/api')).toBe('http://ho st/api');
    // A password with a / in it, or no scheme at all: everything up to the last @ goes.
    expect(printableUrl('http://u:pa/ss@proxy:3128')).toBe('http://proxy:3128');
    expect(printableUrl('u:pa/ss@proxy:3128')).toBe('proxy:3128');
  });
});
