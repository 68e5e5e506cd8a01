import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultImageTag, ociLabels, renderImageTag } from '../docker/args.js';
import { DockerCli } from '../docker/docker.js';
import { entrypointFor, packageFiles, writePackageFiles } from '../packaging/files.js';
import { isGeneratedFile } from '../packaging/generated.js';
import type { OrchestratorContext, PackageRequest, PackageResult } from './orchestrator.js';

export interface PackageProjectOptions extends OrchestratorContext {
  /** orchestrator.config.flow_kwargs, used when the package kwargs name none. */
  flowKwargs?: Record<string, unknown>;
  /** Whether to build (and, with push_image, push) the image; false for pools that run no container. */
  buildImage: boolean;
}

/**
 * The package step shared by every orchestrator: write lolpop's entrypoint and
 * Dockerfile (unless the user has their own), then build and push the image.
 */
export async function packageProject(request: PackageRequest, options: PackageProjectOptions): Promise<PackageResult> {
  const kwargs = { ...request.kwargs, flow_kwargs: request.kwargs.flow_kwargs ?? options.flowKwargs };
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

  const now = new Date();
  const image = renderImageTag(
    kwargs.docker_image_tag ?? defaultImageTag(kwargs.lolpop_class, kwargs.lolpop_entrypoint),
    options.ci,
    now,
  );
  const docker = new DockerCli(options.exec, options.logger, options.env);
  await docker.build({
    image,
    dockerfile: path.resolve(options.workdir, kwargs.dockerfile_path),
    context: options.workdir,
    buildArgs: kwargs.build_args ?? {},
    labels: ociLabels(options.ci, now),
    extra: kwargs.docker_kwargs ?? [],
  });
  result.image = image;
  if (kwargs.push_image) {
    if (options.registry) await docker.login(registryOf(image), options.registry.username, options.registry.password);
    result.digest = await docker.push(image);
  }
  return result;
}

/** The registry host of a reference, or Docker Hub when it has none. */
function registryOf(image: string): string {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && /[.:]|^localhost$/.test(first) ? first : 'docker.io';
}
