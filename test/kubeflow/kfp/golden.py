"""Compiles, with the real kfp SDK, the DSL pipeline equivalent to what lolpop-deploy generates.

Usage: python golden.py DESCRIPTION.json OUT.yaml
DESCRIPTION holds the deployment as its config says it (names, image, what the container
runs, env) and deploy.resources as the user wrote them; the resources go through the DSL's
own setters (set_cpu_request, set_accelerator_type, kfp-kubernetes' add_node_selector, ...),
so their IR form is kfp's, not ours.
"""
import json
import sys

from kfp import compiler, dsl, kubernetes

d = json.load(open(sys.argv[1], encoding='utf-8'))


@dsl.container_component
def lolpop_run(params_json: str):
    return dsl.ContainerSpec(image=d['image'], command=d['command'], args=[params_json])


@dsl.pipeline(name=d['name'], description=d['description'])
def pipeline(params_json: str = '{}'):
    t = lolpop_run(params_json=params_json)
    t.set_display_name(d['display_name'])
    t.set_caching_options(d['enable_caching'])
    for name, value in d['env']:
        t.set_env_variable(name, value)
    r = d.get('resources') or {}
    cpu, memory, gpu = r.get('cpu') or {}, r.get('memory') or {}, r.get('gpu')
    if 'request' in cpu: t.set_cpu_request(cpu['request'])
    if 'limit' in cpu: t.set_cpu_limit(cpu['limit'])
    if 'request' in memory: t.set_memory_request(memory['request'])
    if 'limit' in memory: t.set_memory_limit(memory['limit'])
    if gpu:
        t.set_accelerator_type(gpu.get('accelerator') or gpu.get('resource', 'nvidia.com/gpu'))
        t.set_accelerator_limit(gpu['count'])
    for key, value in (r.get('node_selector') or {}).items():
        kubernetes.add_node_selector(t, label_key=key, label_value=value)
    for tol in r.get('tolerations') or []:
        kubernetes.add_toleration(t, key=tol.get('key'), operator=tol.get('operator'), value=tol.get('value'),
                                  effect=tol.get('effect'), toleration_seconds=tol.get('toleration_seconds'))
    by_secret = {}
    for env, ref in (r.get('env_from_secrets') or {}).items():
        by_secret.setdefault(ref['secret'], {})[ref['key']] = env
    for secret, key_to_env in by_secret.items():
        kubernetes.use_secret_as_env(t, secret_name=secret, secret_key_to_env=key_to_env)


compiler.Compiler().compile(pipeline, package_path=sys.argv[2])
