import type { CiContext } from '../ci-context.js';
import { ConfigError } from '../errors.js';

/**
 * `docker_image_tag` with its placeholders filled, lower-cased (Docker rejects
 * upper-case repository names) and checked against Docker's reference grammar.
 */
export function renderImageTag(template: string, ci: CiContext, now: Date = new Date()): string {
  const values: Record<string, string> = {
    sha: ci.sha || 'local',
    short_sha: ci.shortSha || 'local',
    ref: (ci.refName || 'local').replace(/[^A-Za-z0-9_.-]/g, '-'),
    run: ci.runNumber || String(Math.floor(now.getTime() / 1000)),
  };
  const filled = template.replace(/\{([a-z_]+)\}/g, (match, name: string) => {
    const value = values[name];
    if (value === undefined) {
      throw new ConfigError(`docker_image_tag: unknown placeholder ${match}; known: {sha}, {short_sha}, {ref}, {run}`);
    }
    return value;
  });
  const [name, tag] = splitReference(filled);
  const reference = `${name.toLowerCase()}${tag ? `:${tag}` : ''}`;
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+|\/)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*$/.test(name.toLowerCase()) || (tag && !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag))) {
    throw new ConfigError(`docker_image_tag: '${filled}' is not a valid image reference (expected registry/name:tag)`);
  }
  return reference;
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
  extra: string[];
}

/** argv of `docker build`; pure, so it is tested as table rows. */
export function buildArgs(input: BuildArgsInput): string[] {
  const args = ['build', '--file', input.dockerfile, '--tag', input.image];
  for (const [k, v] of Object.entries(input.labels)) args.push('--label', `${k}=${v}`);
  for (const [k, v] of Object.entries(input.buildArgs)) args.push('--build-arg', `${k}=${v}`);
  args.push(...input.extra, input.context);
  return args;
}

/** OCI labels linking the image to the commit that built it. */
export function ociLabels(ci: CiContext, now: Date): Record<string, string> {
  const labels: Record<string, string> = { 'org.opencontainers.image.created': now.toISOString() };
  if (ci.repository) labels['org.opencontainers.image.source'] = `${ci.serverUrl}/${ci.repository}`;
  if (ci.sha) labels['org.opencontainers.image.revision'] = ci.sha;
  return labels;
}
