import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasConnection, profilesPath, resolveConnection } from '../../src/orchestrators/prefect/connection.js';
import { tempDir } from '../helpers/services.js';

/** A Prefect profiles file as `prefect profile create` + `prefect config set` write it. */
function profiles(): string {
  const home = tempDir('prefect-home');
  writeFileSync(
    path.join(home, 'profiles.toml'),
    [
      'active = "default"',
      '',
      '[profiles.default]',
      '',
      '[profiles.dev]',
      'PREFECT_API_URL = "http://dev.example:4200/api"',
      'PREFECT_API_KEY = "pnu_dev"',
      '',
    ].join('\n'),
  );
  return home;
}

describe("lolpop's prefect_profile, read from Prefect's profiles file", () => {
  it('the named profile supplies settings; the environment wins; prefect_settings fill the rest', () => {
    const home = profiles();
    const settings = { PREFECT_API_URL: 'http://file.example/api', PREFECT_UI_URL: 'http://ui.example' };
    const dev = resolveConnection({ PREFECT_HOME: home }, settings, 'dev');
    expect(dev).toMatchObject({ apiUrl: 'http://dev.example:4200/api', apiKey: 'pnu_dev', uiUrl: 'http://ui.example', profile: 'dev' });
    expect(dev.profilesPath).toBe(path.join(home, 'profiles.toml'));
    const env = resolveConnection({ PREFECT_HOME: home, PREFECT_API_URL: 'http://env.example/api' }, settings, 'dev');
    expect(env.apiUrl).toBe('http://env.example/api');
  });

  it('a profile that does not exist (or no profiles file) leaves prefect_settings, as lolpop does', () => {
    const home = profiles();
    expect(resolveConnection({ PREFECT_HOME: home }, { PREFECT_API_URL: 'http://file.example/api' }, 'prod').apiUrl).toBe('http://file.example/api');
    expect(resolveConnection({ PREFECT_HOME: tempDir('empty') }, { PREFECT_API_URL: 'http://file.example/api' }, 'dev').profile).toBeUndefined();
  });

  it('finds the file where Prefect does: PREFECT_PROFILES_PATH, PREFECT_HOME, then ~/.prefect', () => {
    expect(profilesPath({ PREFECT_PROFILES_PATH: '/x/p.toml', PREFECT_HOME: '/h' })).toBe('/x/p.toml');
    expect(profilesPath({ PREFECT_HOME: '/h' })).toBe('/h/profiles.toml');
    expect(profilesPath({ HOME: '/home/u' })).toBe('/home/u/.prefect/profiles.toml');
  });

  it('no URL anywhere: one line that says where it may come from', () => {
    const env = { PREFECT_HOME: profiles() };
    expect(hasConnection(env, {}, 'default')).toBe(false);
    expect(() => resolveConnection(env, {}, 'default')).toThrow(
      "PREFECT_API_URL is not set: add it to the workflow env (e.g. http://prefect.example.com:4200/api), to the Prefect profile 'default', or to orchestrator.config.prefect_settings",
    );
  });

  it('a broken profiles file names itself', () => {
    const home = tempDir('prefect-home');
    writeFileSync(path.join(home, 'profiles.toml'), '[profiles.dev\n');
    expect(() => resolveConnection({ PREFECT_HOME: home }, {}, 'dev')).toThrow(/profiles\.toml: not valid TOML .*prefect_profile 'dev'$/);
  });
});
