import { IMAGE_WORKDIR } from '../../packaging/dockerfile.js';
import type { CiContext } from '../../ci-context.js';
import { OrchestratorError } from '../../errors.js';
import type { ServerVersion } from './version.js';

/** Pool types whose workers run no container: the code must be fetched by pull steps. */
export function runsContainers(poolType: string): boolean {
  return poolType !== 'process' && poolType !== 'prefect-agent';
}

/**
 * What a worker does before loading the flow. In an image the code is already
 * at WORKDIR; a process worker clones this repository at the deployed commit.
 * Prefect 2's git_clone has no commit_sha (3.x added it): there the clone is followed by
 * a fetch and checkout of the commit in the cloned directory. Workers are assumed to run
 * the server's major version.
 */
export function defaultPullSteps(poolType: string, ci: CiContext, version: ServerVersion): Array<Record<string, unknown>> {
  if (runsContainers(poolType)) {
    return [{ 'prefect.deployments.steps.set_working_directory': { directory: IMAGE_WORKDIR } }];
  }
  if (!ci.repository) {
    throw new OrchestratorError(
      `Failed to deploy: a '${poolType}' work pool runs no container, so its worker must fetch the code; ` +
        'outside GitHub Actions set deploy.pull_steps (e.g. set_working_directory or git_clone)',
    );
  }
  const clone: Record<string, unknown> = { repository: `${ci.serverUrl}/${ci.repository}.git` };
  if (!ci.sha) {
    if (ci.refName) clone.branch = ci.refName;
    return [{ 'prefect.deployments.steps.git_clone': clone }];
  }
  if (version.major >= 3) return [{ 'prefect.deployments.steps.git_clone': { ...clone, commit_sha: ci.sha } }];
  return [
    { 'prefect.deployments.steps.git_clone': { id: 'clone', ...clone } },
    {
      'prefect.deployments.steps.run_shell_script': {
        directory: '{{ clone.directory }}',
        script: `git fetch --quiet --depth 1 origin ${ci.sha}\ngit checkout --quiet ${ci.sha}`,
      },
    },
  ];
}

/** The image as a job variable, for pools that run containers. */
export function imageJobVariables(poolType: string, image: string | undefined): Record<string, unknown> {
  if (!image || !runsContainers(poolType)) return {};
  return { image };
}
