import { PackageKwargs } from '../../src/config/schema.js';

/** The quickstart's package kwargs, through the real schema so defaults apply. */
export function quickstartKwargs(overrides: Record<string, unknown> = {}): PackageKwargs {
  return PackageKwargs.parse({
    lolpop_class: 'QuickstartRunner',
    lolpop_module: 'quickstart_runner',
    lolpop_entrypoint: 'build_all',
    copy_files: ['train.csv', 'test.csv'],
    ...overrides,
  });
}

/**
 * lolpop's PrefectOrchestrator docs' "static infrastructure" example: a local lolpop build installed from
 * prefect_files, a served deployment, and config validation skipped.
 */
export function quickstartServeKwargs(overrides: Record<string, unknown> = {}): PackageKwargs {
  return quickstartKwargs({
    lolpop_module: 'prefect_files.quickstart_runner',
    copy_files: ['train.csv', 'test.csv', 'process_titanic.py'],
    lolpop_install_location: 'prefect_files/lolpop-testing.tar.gz[cli,prefect,mlflow,xgboost]',
    config_file: 'prefect_files/quickstart.yaml',
    skip_validation: true,
    create_deployment: true,
    docker_image_tag: 'lolpop-quickstartrunner-build-all-serve',
    ...overrides,
  });
}

/** The deployment name the docs' static example runs. */
export const SERVE_DEPLOYMENT = 'lolpop-quickstartrunner-build-all-serve';
