import type { WorkPool } from './api.js';

/**
 * What a pool's base job template lacks for the job variables deploy.resources needs, one
 * line each ("deploy.resources.cpu needs 'cpu_limit'"). A variable must be declared
 * (variables.properties) and placed in job_configuration: a declared variable the
 * configuration never uses is dropped by the worker, silently. Templates depend on the
 * worker that wrote them, so they are read from the pool, never assumed.
 */
export function missingJobVariables(pool: WorkPool, needs: ReadonlyArray<readonly [key: string, variable: string]>): string[] {
  const declared = new Set(Object.keys(pool.base_job_template?.variables?.properties ?? {}));
  const configuration = JSON.stringify(pool.base_job_template?.job_configuration ?? {});
  const isPlaced = (name: string) => new RegExp(`\\{\\{\\s*${name}\\s*\\}\\}`).test(configuration);
  return needs.flatMap(([key, variable]) =>
    !declared.has(variable)
      ? [`deploy.resources.${key} needs '${variable}'`]
      : !isPlaced(variable)
        ? [`deploy.resources.${key} needs '${variable}', declared but placed nowhere in job_configuration`]
        : [],
  );
}
