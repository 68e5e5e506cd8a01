import { z } from 'zod';

/**
 * `orchestrator.config.git` (with `delivery: git`): the repository Airflow reads its DAGs
 * from (a GitDagBundle, or git-sync in the Helm chart), and how to push to it. Put the
 * token in a `${ENV}` reference, never in the file.
 */
export const GitDeliveryConfig = z
  .object({
    url: z
      .string()
      .min(1)
      .refine((url) => /^https?:\/\/[^/@\s]+\/\S+$/.test(url), {
        message: 'expected the repository as an http(s) URL without credentials in it, e.g. https://git.example.com/acme/dags.git (the token goes in git.token)',
      })
      .describe('The repository, e.g. https://git.example.com/acme/dags.git.'),
    branch: z.string().min(1).default('main').describe("The branch Airflow reads (GitDagBundle's tracking_ref)."),
    path: z
      .string()
      .default('dags')
      .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), { message: 'expected a folder inside the repository, e.g. dags' })
      .describe("The folder in the repository Airflow reads (GitDagBundle's subdir); each deployment gets <path>/<dag_id>/."),
    username: z.string().min(1).default('x-access-token').describe('The user the token is sent with (HTTP basic auth).'),
    token: z.string().min(1).optional().describe('A token (or password) allowed to push; use a ${ENV} reference.'),
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
  .strict();

export type GitDeliveryConfig = z.infer<typeof GitDeliveryConfig>;

/** `Name <email>`: the name and the address, as git wants them. */
export const AUTHOR = /^\s*(.+?)\s*<([^<>\s]+)>\s*$/;
