import path from 'node:path';
import { builderOptions, ociLabels, registryOf } from '../docker/args.js';
import { withPrivateDockerConfig } from '../docker/credentials.js';
import { builderFlags, sayOnce } from '../docker/builder.js';
import { DockerCli } from '../docker/docker.js';
import { packageFiles, writePackageFiles, type PackageFile } from './files.js';
import { relativePath } from './paths.js';
import { isGeneratedFile } from './generated.js';
import { readProjectFile, TEXT_FILE_MAX_BYTES } from '../project-files.js';
import { imageProblems, parseImageVersions, requestedLolpop, VERSIONS_PY } from './image-check.js';
import { CommandError } from '../errors.js';
import type { ResolvedDeployment } from '../deployment.js';
import type { FileChange, OrchestratorContext, PackageResult, PlanResult } from '../orchestrators/orchestrator.js';

export interface PackageProjectOptions extends OrchestratorContext {
  /** Whether to build (and, with push_image, push) the image; false for pools that run no container. */
  buildImage: boolean;
  /** False when no image will ever be built from this package (a process pool): no Dockerfile then. */
  dockerfile?: boolean;
  /** The Prefect version of the server the image will run against, when one is known. */
  serverPrefect?: () => Promise<string | undefined>;
}

/** A file the package step would write, and what writing it would change. */
export interface PlannedFile extends PackageFile {
  change: FileChange;
}

/** What the package step would write, and which of the user's files it would use as they are. */
export interface FilesPlan {
  files: PlannedFile[];
  kept: string[];
}

/**
 * The files package writes and what each would change, read from the working
 * directory without writing: `package` writes them, `plan` shows them.
 */
export function planFiles(deployment: ResolvedDeployment, workdir: string, dockerfile = true): FilesPlan {
  const kwargs = deployment.package;
  // What is there now, read only inside the working directory: a link out of it is refused, not followed.
  const read = (p: string): string | undefined => readProjectFile({ root: workdir, file: p, what: `'${p}'` }, TEXT_FILE_MAX_BYTES)?.toString('utf8');
  const files = packageFiles(kwargs, {
    deploymentName: deployment.name,
    dockerfile,
    // A Dockerfile we generated earlier is ours to refresh, not the user's own.
    exists: (p) => {
      const content = read(p);
      return content !== undefined && !isGeneratedFile(content);
    },
  });
  const dockerfilePath = relativePath('dockerfile_path', kwargs.dockerfile_path);
  const kept = dockerfile && kwargs.package_type === 'docker' && !files.some((f) => f.path === dockerfilePath) ? [dockerfilePath] : [];
  return {
    files: files.map((f) => {
      const before = read(f.path);
      return { ...f, change: before === undefined ? 'new' : before === f.content ? 'unchanged' : 'updated' };
    }),
    kept,
  };
}

/**
 * The package part of a plan: the files and what would change, and the image that
 * would be built. `condition`: what the build depends on that plan cannot know
 * (a work pool's type without a server, a Docker daemon), said with the build line.
 */
export function planPackage(
  deployment: ResolvedDeployment,
  options: Pick<OrchestratorContext, 'workdir'> & { buildImage: boolean; condition?: string; dockerfile?: boolean },
): Pick<PlanResult, 'files' | 'kept' | 'image' | 'actions'> {
  const kwargs = deployment.package;
  const plan = planFiles(deployment, options.workdir, options.dockerfile ?? true);
  const files = plan.files.map(({ path: p, change }) => ({ path: p, change }));
  const actions = files.map((f) => `write ${f.path} (${f.change})`);
  for (const kept of plan.kept) actions.push(`use ${kept} as it is (yours: no lolpop-deploy header)`);
  if (kwargs.package_type !== 'docker' || !options.buildImage) return { files, kept: plan.kept, actions };
  const image = deployment.image;
  const push = kwargs.push_image ? ` and push it to ${registryOf(image)}` : '';
  const when = options.condition ? ` (${options.condition})` : '';
  actions.push(`build ${image} from ${relativePath('dockerfile_path', kwargs.dockerfile_path)}${push}${when}`);
  return { files, kept: plan.kept, image, actions };
}

/**
 * The package step shared by every orchestrator: write lolpop's entrypoint and
 * Dockerfile (unless the user has their own), then build and push the image.
 */
export async function packageProject(deployment: ResolvedDeployment, options: PackageProjectOptions): Promise<PackageResult> {
  const kwargs = deployment.package;
  const plan = planFiles(deployment, options.workdir, options.dockerfile ?? true);
  const files = plan.files;
  writePackageFiles(options.workdir, files);
  for (const file of files) options.logger.info(`wrote ${file.path} (${file.change})`);
  for (const kept of plan.kept) {
    options.logger.info(`${kept} is yours (it has no lolpop-deploy header): building with it as it is`);
  }
  const result: PackageResult = {
    files: files.map((f) => f.path),
    changes: Object.fromEntries(files.map((f) => [f.path, f.change])),
    ...(plan.kept.length > 0 ? { kept: plan.kept } : {}),
    entrypoint: deployment.entrypoint,
  };
  if (!options.buildImage || kwargs.package_type !== 'docker') return result;

  const image = deployment.image;
  const registry = options.registry;
  if (registry) options.logger.addSecret(registry.password);
  const buildAndPush = async (env: NodeJS.ProcessEnv): Promise<void> => {
    const docker = new DockerCli(options.exec, options.logger, env);
    // Before the build too: a private base image comes from the same registry.
    if (registry) await docker.login(registryOf(image), registry.username, registry.password);
    const requested = kwargs.docker_kwargs ?? [];
    const builder = await docker.builder();
    const { args: userArgs, dropped } = builderOptions(requested, builder.buildx);
    if (dropped.length > 0) options.logger.warning(`docker buildx is not installed; ignoring BuildKit-only docker_kwargs: ${dropped.join(' ')}`);
    const added = builderFlags(builder, userArgs, env, image);
    for (const note of added.notes) sayOnce(options.logger, note);
    const extra = [...userArgs, ...added.args];
    const dockerfile = path.resolve(options.workdir, kwargs.dockerfile_path);
    options.logger.info(`building ${image} from ${path.relative(options.workdir, dockerfile) || dockerfile}`);
    await docker.build({
      image,
      dockerfile,
      context: options.workdir,
      buildArgs: kwargs.build_args ?? {},
      labels: ociLabels(options.ci, new Date()),
      extra,
      buildx: builder.buildx,
    });
    result.image = image;
    // Our Dockerfile: check now what would otherwise fail only when a flow runs. (A
    // Dockerfile of the user's may have no python to ask.)
    if (files.some((f) => f.path === relativePath('dockerfile_path', kwargs.dockerfile_path))) await checkImage(docker, image, kwargs.lolpop_install_location, options);
    if (kwargs.push_image) {
      result.digest = await docker.push(image);
      options.logger.info(`pushed ${image}@${result.digest}`);
    }
  };
  // Credentials from the inputs go into a private Docker config; without them the
  // CLI uses the runner's (where docker/login-action logged in).
  if (registry) await withPrivateDockerConfig(options.env, buildAndPush);
  else await buildAndPush(options.env);
  return result;
}

/** Fails the package step, in one line per problem, when the image cannot run the flow. */
async function checkImage(docker: DockerCli, image: string, install: string, options: PackageProjectOptions): Promise<void> {
  const versions = parseImageVersions(await docker.python(image, VERSIONS_PY));
  const serverPrefect = await options.serverPrefect?.();
  options.logger.info(
    `${image}: Python ${versions.python}, Prefect ${versions.prefect ?? '(none)'}, lolpop ${versions.lolpop ?? '(none)'}` +
      (serverPrefect ? `; server Prefect ${serverPrefect}` : ''),
  );
  const problems = imageProblems(image, versions, { lolpop: requestedLolpop(install), serverPrefect });
  if (problems.length > 0) throw new CommandError(`Failed to package: ${problems.join('; ')}`);
}
