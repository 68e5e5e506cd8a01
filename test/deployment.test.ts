import { describe, expect, it } from 'vitest';
import { DeployKwargs, PackageKwargs, RunKwargs } from '../src/config/schema.js';
import { ConfigError } from '../src/errors.js';
import { runParameters } from '../src/deployment.js';
import { PrefectDeployKwargs } from '../src/orchestrators/prefect/kwargs.js';
import { resolvedFrom } from './helpers/requests.js';
import { ciContext } from './helpers/services.js';

const pkg = (extra: Record<string, unknown> = {}) => PackageKwargs.parse({ lolpop_class: 'QuickstartRunner', ...extra });

describe('a deployment resolved once, before any step', () => {
  it('the generated wrapper: its entrypoint, Prefect flow name, the image package builds, nested run parameters', () => {
    const d = resolvedFrom('LocalOrchestrator', { package: pkg() });
    expect(d).toMatchObject({
      orchestrator: 'LocalOrchestrator',
      name: 'quickstart',
      entrypoint: 'prefect_files/run.py:prefect_entrypoint',
      ownFlow: false,
      flowName: 'prefect-entrypoint',
      image: 'lolpop-quickstartrunner-build-all:latest',
      idempotencyKey: undefined,
    });
    expect(runParameters(d, { n: 1 })).toEqual({ params: { n: 1 } });
  });

  it("deploy.flow_entrypoint (lolpop's deploy kwarg) names the user's own flow over package's", () => {
    const d = resolvedFrom('LocalOrchestrator', {
      package: pkg({ flow_entrypoint: 'flows/a.py:prepare' }),
      deploy: DeployKwargs.parse({ flow_entrypoint: 'flows/b.py:train_model' }),
    });
    expect(d).toMatchObject({ entrypoint: 'flows/b.py:train_model', ownFlow: true, flowName: 'train-model' });
    expect(runParameters(d, { n: 1 })).toEqual({ n: 1 });
  });

  it('the image tag is rendered for this CI run; a bad template fails here, before anything is built', () => {
    const ci = ciContext({ shortSha: 'abc1234' });
    expect(resolvedFrom('LocalOrchestrator', { package: pkg({ docker_image_tag: 'Registry.example:5000/ML/qs:{short_sha}' }) }, ci).image).toBe(
      'Registry.example:5000/ml/qs:abc1234',
    );
    expect(() => resolvedFrom('LocalOrchestrator', { package: pkg({ docker_image_tag: 'qs:{nope}' }) })).toThrow(ConfigError);
  });

  it('one idempotency key per workflow run attempt and deployment, unless run.idempotency_key names one', () => {
    const ci = ciContext({ repository: 'acme/ml', runId: '42', runAttempt: '2' });
    expect(resolvedFrom('LocalOrchestrator', { package: pkg() }, ci).idempotencyKey).toBe('lolpop-deploy/acme/ml/42/2/quickstart');
    const own = RunKwargs.parse({ idempotency_key: 'mine' });
    expect(resolvedFrom('LocalOrchestrator', { package: pkg(), run: own }, ci).idempotencyKey).toBe('mine');
  });

  it("the orchestrator's plugin decides where it runs, once: Prefect's target, Airflow's DAG id", () => {
    expect(resolvedFrom('PrefectOrchestrator', { package: pkg(), deploy: PrefectDeployKwargs.parse({ work_pool: 'p' }) }).target).toEqual({
      kind: 'pool',
      workPool: 'p',
      kubernetesWorker: false,
    });
    expect(resolvedFrom('AirflowOrchestrator', { name: 'my deploy/1', package: pkg() }).target).toEqual({ dagId: 'my_deploy_1' });
    expect(resolvedFrom('LocalOrchestrator', { package: pkg() }).target).toBeUndefined();
  });
});
