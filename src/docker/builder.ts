/**
 * The image builder at hand, and what it can do for a build: BuildKit or the
 * classic builder, and with BuildKit, which driver. `docker build` on a runner with
 * buildx is `docker buildx build` on the selected builder: with the docker driver
 * (the default) images land in the engine as before; with the docker-container
 * driver (what docker/setup-buildx-action creates) they stay in the builder unless
 * `--load`ed, and only then can a build export its cache to GitHub's.
 */
export interface Builder {
  buildx: boolean;
  /** `docker`, `docker-container`, `kubernetes`, `remote`; undefined without buildx. */
  driver?: string;
}

/** The builder from `docker buildx inspect`'s output; `undefined` output: no buildx. */
export function parseBuilder(inspectOutput: string | undefined): Builder {
  if (inspectOutput === undefined) return { buildx: false };
  const driver = /^Driver:\s*(\S+)/m.exec(inspectOutput)?.[1];
  return { buildx: true, ...(driver ? { driver } : {}) };
}

export interface BuilderFlags {
  /** Added after the user's docker_kwargs. */
  args: string[];
  /** Said once per process: what the build cannot do here, and how to get it. */
  notes: string[];
}

const OUTPUT_FLAGS = ['--load', '--push', '--output', '-o'];

/**
 * What lolpop-deploy adds to a build for this builder: `--load` where the image
 * would otherwise stay in the builder, and on GitHub Actions (its cache service
 * reachable: ACTIONS_RUNTIME_TOKEN and a cache URL, which the runner gives to
 * JavaScript actions) the GitHub Actions layer cache, one scope per image
 * repository, so a second CI run reuses the first's layers and several
 * workflows' images do not evict each other. A user's own `--cache-from`,
 * `--cache-to` or output flag wins.
 */
export function builderFlags(builder: Builder, userArgs: readonly string[], env: NodeJS.ProcessEnv, image: string): BuilderFlags {
  const args: string[] = [];
  const notes: string[] = [];
  const given = (flags: string[]) => userArgs.some((a) => flags.includes(a.split('=')[0]!));
  const onActions = Boolean(env.ACTIONS_RUNTIME_TOKEN && (env.ACTIONS_CACHE_URL || env.ACTIONS_RESULTS_URL));
  if (!builder.buildx) {
    if (onActions) notes.push('docker buildx is not installed: images are built by the classic builder, without the GitHub Actions layer cache (add docker/setup-buildx-action before this step)');
    return { args, notes };
  }
  const keepsImage = builder.driver === 'docker';
  if (!keepsImage && !given(OUTPUT_FLAGS)) args.push('--load');
  if (!onActions || given(['--cache-from', '--cache-to'])) return { args, notes };
  if (keepsImage) {
    notes.push(
      "the docker builder driver cannot export a layer cache: images are built without the GitHub Actions cache (docker/setup-buildx-action's docker-container builder can)",
    );
    return { args, notes };
  }
  const scope = cacheScope(image);
  args.push('--cache-from', `type=gha,scope=${scope}`, '--cache-to', `type=gha,mode=max,scope=${scope}`);
  return { args, notes };
}

/** `registry:5000/team/model:abc123` → `team/model`: the image without registry and tag. */
export function cacheScope(image: string): string {
  const withoutDigest = image.split('@')[0]!;
  const parts = withoutDigest.split('/');
  // A first part with a dot, a colon or `localhost` is a registry host.
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift();
  const last = parts.pop()!.replace(/:[^:]*$/, '');
  return [...parts, last].join('/').replace(/[^A-Za-z0-9._/-]/g, '-');
}

/** Notes already printed: several workflows in one step build several images, and hear each note once. */
const said = new Set<string>();

export function sayOnce(logger: { info(message: string): void }, note: string): void {
  if (said.has(note)) return;
  said.add(note);
  logger.info(note);
}
