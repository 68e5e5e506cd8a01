import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { builderOptions, defaultImageTag, ociLabels, registryOf, renderImageTag } from '../docker/args.js';
import { withPrivateDockerConfig } from '../docker/credentials.js';
import { DockerCli } from '../docker/docker.js';
import { entrypointFor, packageFiles, writePackageFiles } from '../packaging/files.js';
import { relativePath } from '../packaging/paths.js';
import { isGeneratedFile } from '../packaging/generated.js';
import { imageProblems, parseImageVersions, requestedLolpop, VERSIONS_PY } from '../packaging/image-check.js';
import { CommandError } from '../errors.js';
import type { OrchestratorContext, PackageRequest, PackageResult } from './orchestrator.js';

export interface PackageProjectOptions extends OrchestratorContext {
  /** Whether to build (and, with push_image, push) the image; false for pools that run no container. */
  buildImage: boolean;
  /** The Prefect version of the server the image will run against, when one is known. */
  serverPrefect?: () => Promise<string | undefined>;
}

/**
 * The package step shared by every orchestrator: write lolpop's entrypoint and
 * Dockerfile (unless the user has their own), then build and push the image.
 */
export async function packageProject(request: PackageRequest, options: PackageProjectOptions): Promise<PackageResult> {
  const kwargs = request.kwargs;
  const files = packageFiles(kwargs, {
    deploymentName: request.deploymentName,
    // A Dockerfile we generated earlier is ours to refresh, not the user's own.
    exists: (p) => {
      const file = path.resolve(options.workdir, p);
      return existsSync(file) && !isGeneratedFile(readFileSync(file, 'utf8'));
    },
  });
  writePackageFiles(options.workdir, files);
  for (const file of files) options.logger.info(`wrote ${file.path}`);
  const result: PackageResult = { files: files.map((f) => f.path), entrypoint: entrypointFor(kwargs) };
  if (!options.buildImage || kwargs.package_type !== 'docker') return result;

  const image = renderImageTag(kwargs.docker_image_tag ?? defaultImageTag(kwargs.lolpop_class, kwargs.lolpop_entrypoint), options.ci);
  const registry = options.registry;
  if (registry) options.logger.addSecret(registry.password);
  const buildAndPush = async (env: NodeJS.ProcessEnv): Promise<void> => {
    const docker = new DockerCli(options.exec, options.logger, env);
    // Before the build too: a private base image comes from the same registry.
    if (registry) await docker.login(registryOf(image), registry.username, registry.password);
    const requested = kwargs.docker_kwargs ?? [];
    const { args: extra, dropped } = builderOptions(requested, requested.length > 0 && (await docker.hasBuildx()));
    if (dropped.length > 0) options.logger.warning(`docker buildx is not installed; ignoring BuildKit-only docker_kwargs: ${dropped.join(' ')}`);
    const dockerfile = path.resolve(options.workdir, kwargs.dockerfile_path);
    options.logger.info(`building ${image} from ${path.relative(options.workdir, dockerfile) || dockerfile}`);
    await docker.build({
      image,
      dockerfile,
      context: options.workdir,
      buildArgs: kwargs.build_args ?? {},
      labels: ociLabels(options.ci, new Date()),
      extra,
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
