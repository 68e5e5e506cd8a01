import { z } from 'zod';
import { Duration } from '../../config/schema.js';

/**
 * KubeflowPipelinesOrchestrator's `orchestrator.config`: where the KFP v2 API is and how
 * to authenticate, as deployments expose it. The environment fills in what the file
 * leaves out, with the names the kfp SDK reads (KF_PIPELINES_ENDPOINT,
 * KF_PIPELINES_UI_ENDPOINT, KF_PIPELINES_SA_TOKEN_PATH) and this tool's KF_PIPELINES_TOKEN and
 * KF_PIPELINES_COOKIE. A secret in the file belongs in a `${ENV}` reference.
 */
export const KubeflowConfig = z
  .strictObject({
    host: z
      .string()
      .min(1)
      .optional()
      .describe('The KFP API host, without /apis/v2beta1: http://localhost:3000 (port-forward), https://<gateway>/pipeline (Kubeflow); else KF_PIPELINES_ENDPOINT.'),
    ui_url: z.string().min(1).optional().describe('The KFP UI for links; else KF_PIPELINES_UI_ENDPOINT; else host.'),
    token: z.string().min(1).optional().describe('A bearer token (e.g. `kubectl create token default-editor`); else KF_PIPELINES_TOKEN.'),
    token_path: z.string().min(1).optional().describe('A file holding the bearer token (a projected service-account token); else KF_PIPELINES_SA_TOKEN_PATH.'),
    cookie: z.string().min(1).optional().describe('A session cookie as the browser sends it, e.g. oauth2_proxy_kubeflow=…; else KF_PIPELINES_COOKIE.'),
    namespace: z.string().min(1).optional().describe('The profile namespace of a multi-user Kubeflow; leave out for standalone (single-user) KFP.'),
    experiment: z.string().min(1).default('lolpop').describe('The experiment runs and recurring runs go into (created when missing).'),
    request_timeout: Duration('30s').describe('The budget of one REST call, its retries included; a hung server fails within it.'),
  })
  .superRefine((config, ctx) => {
    // Two credentials would leave which one the server checks to its ingress: say one.
    const given = (['token', 'token_path', 'cookie'] as const).filter((key) => config[key] !== undefined);
    if (given.length > 1) {
      ctx.addIssue({ code: 'custom', path: [given[1]!], message: `give one credential: ${given.join(' and ')} are both set` });
    }
  });

export type KubeflowConfig = z.infer<typeof KubeflowConfig>;
