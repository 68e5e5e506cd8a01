import type { DockerResources } from '../../docker/resources.js';

/** What the DAG file needs to give a DockerOperator deploy.resources (docker/resources.ts decided their Docker form). */
export interface DockerOperatorResources {
  /** The operator's class: DockerOperator, or the subclass below when it lacks an argument. */
  operator: string;
  /** Import lines, after the DAG file's own. */
  imports: string;
  /** The subclass, when needed, before the DAG. */
  definitions: string;
  /** Keyword arguments, one Python expression each. */
  args: string[];
}

/** The subclass's name in the DAG file (and in Airflow's UI as the task's operator). */
export const LIMITED_DOCKER_OPERATOR = 'DockerOperatorWithLimits';

/**
 * DockerOperator (provider 4.6.1) has arguments for two of Docker's limits: `mem_limit`
 * (--memory) and `device_requests` (--gpus). Its `cpus` is not --cpus: it becomes
 * cpu_shares (cpus × 1024), a relative weight that limits nothing while the host is idle.
 * --cpus (nano_cpus) and --memory-reservation (mem_reservation) are host-config fields it
 * never passes, so a subclass adds them to the one host config the operator creates, through
 * docker-py's own create_host_config. The subclass is written only when they are asked for.
 */
const SUBCLASS = `

class ${LIMITED_DOCKER_OPERATOR}(DockerOperator):
    """DockerOperator with Docker's --cpus (nano_cpus) and --memory-reservation, which it has no argument for."""

    def __init__(self, *, host_config_extra, **kwargs):
        super().__init__(**kwargs)
        self.host_config_extra = host_config_extra

    @property
    def cli(self):
        client = super().cli  # the hook's one cached APIClient
        if not getattr(client, "lolpop_deploy_limits", False):
            create_host_config = client.create_host_config
            extra = self.host_config_extra
            client.create_host_config = lambda *args, **kwargs: create_host_config(*args, **{**kwargs, **extra})
            client.lolpop_deploy_limits = True
        return client
`;

export function dockerOperatorResources(r: DockerResources | undefined): DockerOperatorResources {
  const args: string[] = [];
  const imports: string[] = [];
  if (r?.memoryBytes !== undefined) args.push(`mem_limit=${r.memoryBytes}`);
  if (r?.gpus !== undefined) {
    // What `docker run --gpus N` sends: a DeviceRequest for the gpu capability, any driver.
    imports.push('from docker.types import DeviceRequest');
    args.push(`device_requests=[DeviceRequest(count=${r.gpus}, capabilities=[["gpu"]])]`);
  }
  const extra = [
    r?.nanoCpus !== undefined && `"nano_cpus": ${r.nanoCpus}`,
    r?.memoryReservationBytes !== undefined && `"mem_reservation": ${r.memoryReservationBytes}`,
  ].filter((e): e is string => typeof e === 'string');
  if (extra.length > 0) args.push(`host_config_extra={${extra.join(', ')}}`);
  return {
    operator: extra.length > 0 ? LIMITED_DOCKER_OPERATOR : 'DockerOperator',
    imports: imports.map((line) => `${line}\n`).join(''),
    definitions: extra.length > 0 ? SUBCLASS : '',
    args,
  };
}
