import { z } from 'zod';

const HTTP_URL = /^https?:\/\/[^/@\s]+\/\S+$/;
/** ssh://[user@]host[:port]/path, with no password in it. */
const SSH_URL = /^ssh:\/\/(?:[^@:/\s]+@)?[^@:/\s]+(?::\d+)?\/\S+$/;
/** scp-style user@host:path (git's other SSH form); the user is required, so a Windows path is not taken for one. */
const SCP_URL = /^[^@:/\s]+@[^@:/\s]+:(?!\/\/)\S+$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Whether git reaches this repository over SSH (and so with a deploy key). */
export function isSshUrl(url: string): boolean {
  return SSH_URL.test(url) || SCP_URL.test(url);
}

/**
 * `orchestrator.config.git` (with `delivery: git`): the repository Airflow reads its DAGs
 * from (a GitDagBundle, or git-sync in the Helm chart), and how to push to it: a token
 * over http(s) (put it in a `${ENV}` reference, never in the file), or an SSH deploy key
 * named by the environment variable that holds it.
 */
export const GitDeliveryConfig = z
  .object({
    url: z
      .string()
      .min(1)
      .refine((url) => HTTP_URL.test(url) || isSshUrl(url), {
        message:
          'expected the repository as an http(s) URL without credentials in it, e.g. https://git.example.com/acme/dags.git (the token goes in git.token), ' +
          'or an SSH one, e.g. ssh://git@git.example.com/acme/dags.git or git@git.example.com:acme/dags.git (the deploy key goes in git.ssh_key_env)',
      })
      .describe('The repository, e.g. https://git.example.com/acme/dags.git, or ssh://git@git.example.com/acme/dags.git with ssh_key_env.'),
    branch: z.string().min(1).default('main').describe("The branch Airflow reads (GitDagBundle's tracking_ref)."),
    path: z
      .string()
      .default('dags')
      .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { message: 'expected a folder inside the repository, e.g. dags' })
      .describe("The folder in the repository Airflow reads (GitDagBundle's subdir); each deployment gets <path>/<dag_id>/."),
    username: z.string().min(1).default('x-access-token').describe('The user the token is sent with (HTTP basic auth).'),
    token: z.string().min(1).optional().describe('A token (or password) allowed to push; use a ${ENV} reference.'),
    ssh_key_env: z
      .string()
      .regex(ENV_NAME, { message: 'expected the name of an environment variable, e.g. AIRFLOW_DAGS_DEPLOY_KEY (not the key itself)' })
      .optional()
      .describe('With an SSH url: the environment variable that holds the deploy key (the private key, OpenSSH or PEM), e.g. AIRFLOW_DAGS_DEPLOY_KEY.'),
    known_hosts_env: z
      .string()
      .regex(ENV_NAME, { message: 'expected the name of an environment variable, e.g. AIRFLOW_DAGS_KNOWN_HOSTS' })
      .optional()
      .describe("With an SSH url: the environment variable that holds the server's known_hosts line(s); else known_hosts_file; else ~/.ssh/known_hosts."),
    known_hosts_file: z
      .string()
      .min(1)
      .optional()
      .describe("With an SSH url: a known_hosts file holding the server's key, relative to the working directory or absolute."),
    bundle_name: z
      .string()
      .min(1)
      .optional()
      .describe("The name of Airflow's DAG bundle that reads this repository: deploy asks it to refresh now instead of at its refresh_interval."),
    author: z
      .string()
      .default('lolpop-deploy <lolpop-deploy@users.noreply.invalid>')
      .refine((a) => AUTHOR.test(a), { message: 'expected "Name <email>", e.g. "ML deploys <ml@example.com>"' })
      .describe('The author and committer of the deploy commits, "Name <email>".'),
  })
  .strict()
  .superRefine((git, ctx) => {
    // Each transport's keys only with that transport: a key that would be silently ignored is a mistake.
    const ssh = isSshUrl(git.url);
    if (ssh && git.ssh_key_env === undefined) {
      ctx.addIssue({ code: 'custom', path: ['ssh_key_env'], message: 'an SSH url needs a deploy key: name the environment variable that holds it, e.g. ssh_key_env: AIRFLOW_DAGS_DEPLOY_KEY' });
    }
    if (ssh && git.token !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['token'], message: 'only read with an http(s) url; an SSH url authenticates with ssh_key_env: remove it' });
    }
    if (!ssh) {
      for (const key of ['ssh_key_env', 'known_hosts_env', 'known_hosts_file'] as const) {
        if (git[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'only read with an SSH url (ssh://… or user@host:path): remove it, or use an SSH url' });
      }
    }
    if (git.known_hosts_env !== undefined && git.known_hosts_file !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['known_hosts_file'], message: 'give the host keys one way: known_hosts_env or known_hosts_file, not both' });
    }
  });

export type GitDeliveryConfig = z.infer<typeof GitDeliveryConfig>;

/** `Name <email>`: the name and the address, as git wants them. */
export const AUTHOR = /^\s*(.+?)\s*<([^<>\s]+)>\s*$/;
