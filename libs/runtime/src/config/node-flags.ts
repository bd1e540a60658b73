/**
 * V8 flags every Switchyard process starts with (`node <flags> dist/apps/<app>/src/main.js`), in
 * the npm scripts, the Dockerfile, the compose files and the Kubernetes manifests alike; the
 * deployment tests hold them all to this list. Node refuses these in NODE_OPTIONS, and setting
 * them once the process runs changes nothing, so they are part of the command.
 *
 * `--initial-old-space-size=128`: V8 kept the old generation's limit at ~1.5× the ~45 MB heap
 * of an API or a worker, and under image and tensor traffic, where each 0.3–0.6 MB body is
 * external memory several times over, it started a full mark-compact every ~0.5 s (its trace
 * names external memory pressure and its marking task). A higher floor for that limit leaves
 * the rest to the young generation's scavenges. Measured on ResNet-50 binary tensors at
 * c=32 (2-vCPU VM): the API's full collections went from ~20 to 4 in 13 s, and its CPU per
 * request from ~11 to ~5 ms; the worker's from ~20 to ~9. The cost is up to ~80 MB more heap
 * before the first full collection.
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];
