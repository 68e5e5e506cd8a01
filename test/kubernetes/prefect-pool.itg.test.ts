import { prefectPoolSuite } from './prefect-pool.js';

// A real prefect-kubernetes 0.8.0 worker (scripts/prefect-k8s-worker.sh) on the kubernetes
// work pool of the shared Prefect 3 server; the suite is shared with Prefect 2
// (prefect2-pool.itg.test.ts), each file its own so that each major is reported apart.
prefectPoolSuite(3);
