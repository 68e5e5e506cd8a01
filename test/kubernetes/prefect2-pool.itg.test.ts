import { prefectPoolSuite } from './prefect-pool.js';

// A real prefect-kubernetes 0.4.6 worker, the Prefect 2 line (LOLPOP_PREFECT_K8S_MAJOR=2
// bash scripts/prefect-k8s-worker.sh), on the kubernetes work pool of the Prefect 2.20
// server that lolpop 0.2.0 users run; the same suite as Prefect 3's (prefect-pool.ts).
prefectPoolSuite(2);
