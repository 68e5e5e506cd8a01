/** Packaging: the files lolpop's PrefectOrchestrator.package generates, made correct. */
export { renderDockerfile, runCommandFor, IMAGE_WORKDIR } from './dockerfile.js';
export {
  renderEntrypoint,
  prefectFlowName,
  flowRunParameters,
  DEFAULT_FLOW_KWARGS,
  DEFAULT_LOLPOP_MODULE,
  WRAPPER_PARAMETER,
  type EntrypointOptions,
} from './entrypoint.js';
export { packageFiles, entrypointFor, writePackageFiles, type PackageFile, type PackageFilesOptions } from './files.js';
export { GENERATED_HEADER, isGeneratedFile } from './generated.js';
export { joinPosix, prefectFilesDir, configFileFor } from './paths.js';
