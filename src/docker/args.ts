import type { CiContext } from '../ci-context.js';
import { ConfigError } from '../errors.js';
import { dockerRunResourceArgs, type DockerResources } from './resources.js';

/** The placeholders `docker_image_tag` may use. */
export const TAG_PLACEHOLDERS = ['sha', 'short_sha', 'ref', 'run'] as const;

/**
 * The values of the placeholders for this CI run. Outside CI they are `local`, not a
 * timestamp, so that package and a later deploy (which re-renders the tag to find the
 * image) agree. `{ref}` on a pull request is `pr-<N>` (GITHUB_REF_NAME would be
 * `7/merge`, a commit no one can check out); `{sha}` is the PR head (see CiContext).
 */
export function tagValues(ci: CiContext): Record<(typeof TAG_PLACEHOLDERS)[number], string> {
  const ref = ci.pullRequestNumber !== undefined ? `pr-${ci.pullRequestNumber}` : ci.refName || 'local';
  return {
    sha: ci.sha || 'local',
    short_sha: ci.shortSha || ci.sha.slice(0, 7) || 'local',
    // A tag may hold [A-Za-z0-9_.-] and must not start with . or -.
    ref: ref.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[.-]+/, '') || 'local',
    run: ci.runNumber || 'local',
  };
}

// Docker's reference grammar (distribution/reference): an optional registry host
// (with port), path components of lower-case alphanumerics and separators, a tag.
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * `docker_image_tag` with its placeholders filled, the repository lower-cased (Docker
 * rejects upper-case repository names; a tag may keep its case) and checked against
 * Docker's reference grammar, so a bad tag fails before a long build.
 */
export function renderImageTag(template: string, ci: CiContext): string {
  const values: Record<string, string> = tagValues(ci);
  const filled = template.trim().replace(/\{([^{}]*)\}/g, (match, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new ConfigError(
        `Invalid docker_image_tag '${template}': unknown placeholder ${match}. Expected one of ${TAG_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}.`,
      );
    }
    return value;
  });
  const [name, tag] = splitReference(filled);
  const lowered = lowerRepository(name);
  const problem = referenceProblem(lowered, tag);
  if (problem) {
    throw new ConfigError(`Invalid docker_image_tag '${template}' (${filled}): ${problem}. Expected [registry[:port]/]name[:tag], e.g. ghcr.io/acme/quickstart:{sha}.`);
  }
  return `${lowered}:${tag ?? 'latest'}`;
}

/** Lower-cases the repository path; a registry host keeps its case (hosts are case-insensitive anyway). */
function lowerRepository(name: string): string {
  const [first, ...rest] = name.split('/');
  if (rest.length > 0 && first !== undefined && isRegistryHost(first)) return [first, ...rest.map((p) => p.toLowerCase())].join('/');
  return name.toLowerCase();
}

/** Why `name:tag` is not a reference Docker accepts, or undefined. */
function referenceProblem(name: string, tag: string | undefined): string | undefined {
  if (name === '') return 'the name is empty';
  if (name.length > 255) return 'the name is longer than 255 characters';
  const parts = name.split('/');
  const first = parts[0] ?? '';
  const path = parts.length > 1 && isRegistryHost(first) ? parts.slice(1) : parts;
  if (path !== parts && !DOMAIN.test(first)) return `'${first}' is not a registry host`;
  const bad = path.find((p) => !PATH_COMPONENT.test(p));
  if (bad !== undefined) return `'${bad}' is not a valid name component (lower-case letters, digits, and . _ - between them)`;
  if (tag !== undefined && !TAG.test(tag)) return `'${tag}' is not a valid tag (up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -)`;
  return undefined;
}

/** Docker's rule: the first component is a registry when it has a `.` or `:`, or is `localhost`. */
export function isRegistryHost(component: string): boolean {
  return /[.:]/.test(component) || component === 'localhost' || component.startsWith('[');
}

/** The registry a reference is pushed to: its host, or Docker Hub. */
export function registryOf(image: string): string {
  const first = image.split('/')[0] ?? '';
  return image.includes('/') && isRegistryHost(first) ? first : 'docker.io';
}

/** `host:5000/a/b:tag` → [`host:5000/a/b`, `tag`]; a colon before the last slash is a port. */
export function splitReference(reference: string): [string, string | undefined] {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  if (colon > slash) return [reference.slice(0, colon), reference.slice(colon + 1)];
  return [reference, undefined];
}

/** The default tag lolpop uses: lolpop-{class}-{entrypoint}:latest, lower-cased, `_` → `-`. */
export function defaultImageTag(lolpopClass: string | undefined, entrypoint: string): string {
  const base = `lolpop-${lolpopClass ?? 'flow'}-${entrypoint}`.toLowerCase().replace(/_/g, '-');
  return `${base}:latest`;
}

export interface BuildArgsInput {
  image: string;
  dockerfile: string;
  context: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  /** The user's `docker_kwargs`, passed through before the context. */
  extra: string[];
  /**
   * Build with `docker buildx build`: BuildKit on the selected builder, as
   * docker/build-push-action does. Plain `docker build` is BuildKit only from Docker
   * 23 on; on an older engine with the plugin it is still the classic builder, which
   * fails on the BuildKit options this tool passes through or adds.
   */
  buildx?: boolean;
}

/** argv of `docker build` (or `docker buildx build`); pure, so it is tested as table rows. */
export function buildArgs(input: BuildArgsInput): string[] {
  const args = [...(input.buildx ? ['buildx', 'build'] : ['build']), '--file', input.dockerfile, '--tag', input.image];
  for (const [k, v] of Object.entries(input.labels)) args.push('--label', `${k}=${v}`);
  for (const k of Object.keys(input.buildArgs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      throw new ConfigError(`Invalid build_args key '${k}'. Expected an ARG name (letters, digits and _), e.g. PIP_INDEX_URL.`);
    }
    // The name only: docker reads the value from its environment (DockerCli.build
    // puts it there), so a value from a secret is never on a command line.
    args.push('--build-arg', k);
  }
  args.push(...input.extra, input.context);
  return args;
}

/** `docker build` options only BuildKit (buildx) understands; the classic builder fails on them. */
const BUILDKIT_ONLY = ['--cache-to', '--push', '--load', '--output', '-o', '--secret', '--ssh', '--provenance', '--sbom', '--attest', '--builder'];

/**
 * `docker_kwargs` for the builder at hand. With buildx they pass through untouched. With
 * the classic builder, BuildKit-only options (`--cache-to`, `--secret`, …) and
 * `--cache-from type=…` (the classic builder takes only image names there) are dropped,
 * and listed in `dropped` so the caller can warn: a cache option should make a build
 * faster where it can, never fail it where it cannot.
 */
export function builderOptions(extra: readonly string[], hasBuildx: boolean): { args: string[]; dropped: string[] } {
  if (hasBuildx) return { args: [...extra], dropped: [] };
  const args: string[] = [];
  const dropped: string[] = [];
  for (let i = 0; i < extra.length; i++) {
    const word = extra[i] ?? '';
    const [flag = '', inline] = word.startsWith('--') ? word.split(/=(.*)/s) : [word];
    const takesValue = inline === undefined && i + 1 < extra.length && !(extra[i + 1] ?? '').startsWith('-');
    const value = inline ?? (takesValue ? extra[i + 1] : undefined);
    const buildkitOnly = BUILDKIT_ONLY.includes(flag) || (flag === '--cache-from' && (value ?? '').includes('type='));
    const consumed = takesValue && (buildkitOnly || flag === '--cache-from') ? 2 : 1;
    const words = extra.slice(i, i + consumed);
    (buildkitOnly ? dropped : args).push(...words);
    i += consumed - 1;
  }
  return { args, dropped };
}

/** argv of `docker login` reading the password from stdin (never argv, which `ps` shows). */
export function loginArgs(registry: string, username: string): string[] {
  return ['login', registry, '--username', username, '--password-stdin'];
}

export function pushArgs(image: string): string[] {
  return ['push', image];
}

/** OCI labels linking the image to the commit that built it. */
export function ociLabels(ci: CiContext, now: Date): Record<string, string> {
  const labels: Record<string, string> = { 'org.opencontainers.image.created': now.toISOString() };
  if (ci.repository) labels['org.opencontainers.image.source'] = `${ci.serverUrl}/${ci.repository}`;
  if (ci.sha) labels['org.opencontainers.image.revision'] = ci.sha;
  return labels;
}

/**
 * A container name Docker accepts (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`) made from a
 * deployment name: other characters become `-`.
 */
export function containerNameFor(deploymentName: string): string {
  const name = deploymentName.replace(/[^a-zA-Z0-9_.-]+/g, '-').replace(/^[^a-zA-Z0-9]+/, '');
  if (!name) throw new ConfigError(`deployment name '${deploymentName}' gives no valid container name; set deploy.container_name`);
  return name;
}

export interface RunContainerInput {
  name: string;
  image: string;
  restart: string;
  /** Variables passed by name only (`--env NAME`): Docker reads the value from its own environment, never argv. */
  envNames: string[];
  labels: Record<string, string>;
  /** The user's extra `docker run` arguments (e.g. `--network host`), before the image. */
  extra: string[];
  /** deploy.resources in Docker's form (docker/resources.ts). */
  resources?: DockerResources;
}

/** argv of `docker run` for a long-lived serving container; pure, tested as table rows. */
export function runContainerArgs(input: RunContainerInput): string[] {
  const args = ['run', '--detach', '--name', input.name, '--restart', input.restart];
  for (const [k, v] of Object.entries(input.labels)) args.push('--label', `${k}=${v}`);
  for (const name of input.envNames) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new ConfigError(`'${name}' is not an environment variable name`);
    args.push('--env', name);
  }
  const resources = refuseRepeatedOptions(input.extra, input.resources ?? {});
  args.push(...resources, ...input.extra, input.image);
  return args;
}

/**
 * The `docker run` options of `resources`, once it is known that the user's own arguments
 * (`extra`, deploy.docker_kwargs) give none of them: which of two would win is Docker's
 * parsing order (the last one), not obvious, so each is given once.
 */
export function refuseRepeatedOptions(extra: readonly string[], resources: DockerResources): string[] {
  const options = dockerRunResourceArgs(resources);
  const twice = options.filter((word) => word.startsWith('--') && extra.some((e) => givesOption(e, word)));
  if (twice.length > 0) {
    throw new ConfigError(
      `orchestrator.deployment.deploy.docker_kwargs gives ${twice.join(', ')}, which deploy.resources sets too; give each once (deploy.resources is the portable form)`,
    );
  }
  return options;
}

/** docker run's one-letter spellings of the options deploy.resources sets (`-m 1g`, `-m1g`). */
const SHORT_OPTIONS: Record<string, string> = { '--memory': '-m' };

/** Whether the argument `word` gives the long option `option` in any of its spellings. */
function givesOption(word: string, option: string): boolean {
  if (word === option || word.startsWith(`${option}=`)) return true;
  const short = SHORT_OPTIONS[option];
  return short !== undefined && word.startsWith(short);
}

/** `docker stop` gives the serving process time to pause its deployment (pause_on_shutdown). */
export function stopContainerArgs(name: string, graceSeconds: number): string[] {
  return ['stop', '--time', String(graceSeconds), name];
}

/** Ids of every container, running or not, that carries the label `key=value`. */
export function containersWithLabelArgs(key: string, value: string): string[] {
  return ['ps', '--all', '--quiet', '--filter', `label=${key}=${value}`];
}

export function removeContainerArgs(name: string): string[] {
  return ['rm', '--force', name];
}

/** Prints "<status> <exit code>", e.g. "running 0" or "exited 1". */
export function inspectContainerArgs(name: string): string[] {
  return ['container', 'inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name];
}

export function containerLogsArgs(name: string, tail: number): string[] {
  return ['logs', '--tail', String(tail), name];
}
