import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Registry credentials from the action's registry-username / registry-password inputs. */
export interface RegistryCredentials {
  username: string;
  password: string;
}

/** The Docker config directory the CLI would use: DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.DOCKER_CONFIG) return env.DOCKER_CONFIG;
  return env.HOME ? path.join(env.HOME, '.docker') : undefined;
}

/**
 * Runs `fn` with an environment whose DOCKER_CONFIG is a private copy of the user's
 * config, removed afterwards. Logging in there keeps the password out of the runner's
 * ~/.docker/config.json (a self-hosted runner would keep it), while the logins
 * docker/login-action made and any credential helpers still apply. Everything else in
 * the directory (cli-plugins with buildx, buildx builders from setup-buildx-action,
 * contexts) is linked, not copied, so the CLI behaves as it did.
 */
export async function withPrivateDockerConfig<T>(env: NodeJS.ProcessEnv, fn: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(env.RUNNER_TEMP || tmpdir(), 'lolpop-deploy-docker-'));
  try {
    const current = dockerConfigDir(env);
    if (current && existsSync(current)) {
      for (const entry of readdirSync(current)) {
        if (entry === 'config.json') copyFileSync(path.join(current, entry), path.join(dir, entry));
        else symlinkSync(path.join(current, entry), path.join(dir, entry));
      }
    }
    return await fn({ ...env, DOCKER_CONFIG: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
