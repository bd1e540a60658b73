# syntax=docker/dockerfile:1
# Switchyard images. One image runs the API (the default CMD) or a worker (command
# `node --initial-old-space-size=128 dist/apps/worker/src/main.js`, with REDIS_URL and MODEL
# or DEPLOYMENT set). The flag is Switchyard's (libs/runtime/src/config/node-flags.ts).
#
#   CPU: docker build -t switchyard:dev .                      (target cpu, the last stage)
#   GPU: docker build --target gpu -t switchyard:dev-gpu .     (linux/amd64 only)
#
# Needs BuildKit (Docker's default builder since 23.0): it builds only the stages a target
# uses, so a CPU build never runs the deps-gpu stage and its CUDA download.

ARG NODE_IMAGE=node:20-bookworm-slim
# CUDA 12 + cuDNN 9 runtime, what onnxruntime-node's CUDA 12 provider links against.
ARG CUDA_IMAGE=nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04

# ---- build: all dependencies, then tsc -> dist/
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
RUN npm run build

# ---- production dependencies for the CPU image. .npmrc says onnxruntime-node-install=skip,
# so the postinstall downloads nothing. onnxruntime-node ships binaries for every OS; keep
# only linux/<this arch> (saves ~250 MB).
FROM ${NODE_IMAGE} AS deps-cpu
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -path "*/linux/$(node -p process.arch)" -exec rm -rf {} +

# ---- production dependencies for the GPU image. onnxruntime-node's install script
# (script/install-utils.js, parseInstallFlag) reads the ONNXRUNTIME_NODE_INSTALL variable before
# the npm config, so this overrides .npmrc's skip and fetches the CUDA execution provider
# (libonnxruntime_providers_cuda.so, from the Microsoft.ML.OnnxRuntime.Gpu.Linux NuGet package)
# at build time. In 1.30 the value cuda12 is not returned as such (the switch has no return for
# it): the script then installs linux/x64's default manifest, which is cuda12, because the file
# is missing. Same result; docs/deployment.md ("GPU image: what was verified") has the details.
# The worker refuses DEVICE=cuda without that file, so the build checks it is there.
FROM ${NODE_IMAGE} AS deps-gpu
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci --omit=dev \
 && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -path "*/linux/x64" -exec rm -rf {} + \
 && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so

# ---- GPU runtime: CUDA base + the node binary from the Node image (glibc 2.35 >= 2.28).
FROM ${CUDA_IMAGE} AS gpu
# /model-store: compose's upload volume (MODEL_STORE); a new named volume takes this
# directory's owner, so uid 1000 can write it.
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid 1000 --create-home --shell /usr/sbin/nologin node \
 && install -d -o 1000 -g 1000 /model-store
COPY --from=build /usr/local/bin/node /usr/local/bin/node
# LANG: the FAQ model's string ops need a UTF-8 locale. HOST: listen beyond loopback.
ENV NODE_ENV=production HOST=0.0.0.0 LANG=C.UTF-8
WORKDIR /app
COPY --from=deps-gpu /app/node_modules ./node_modules
# The CUDA provider must find every library it links against in this base image. A provider
# built for another CUDA or cuDNN major (libcudart.so.13, say) would otherwise fail only when a
# worker starts with DEVICE=cuda. libcuda.so.1 is the driver's: the NVIDIA container toolkit
# mounts it at run time.
RUN ort=node_modules/onnxruntime-node/bin/napi-v6/linux/x64 \
 && missing="$(LD_LIBRARY_PATH="$ort:${LD_LIBRARY_PATH:-}" ldd "$ort/libonnxruntime_providers_cuda.so" | grep 'not found' | grep -v 'libcuda\.so\.1' || true)" \
 && if [ -n "$missing" ]; then echo "the CUDA provider needs libraries that $ort and this base image lack (set CUDA_IMAGE):" "$missing"; exit 1; fi
COPY --from=build /src/dist/apps ./dist/apps
COPY --from=build /src/dist/libs ./dist/libs
# package.json's "imports" map #runtime, #contracts... to dist/: required at run time.
COPY package.json ./
# The reference models, so a worker runs without a volume and k8s can seed its model store.
# The demo page's static files: the compiled demo controller looks for apps/api/public/.
COPY apps/api/public ./apps/api/public
COPY models ./models
COPY docker/healthcheck.mjs ./docker/healthcheck.mjs
USER 1000:1000
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "docker/healthcheck.mjs"]
CMD ["node", "--initial-old-space-size=128", "dist/apps/api/src/main.js"]

# ---- CPU runtime (the default target). Files stay root-owned: the app only reads them.
FROM ${NODE_IMAGE} AS cpu
# /model-store: compose's upload volume (MODEL_STORE); a new named volume takes this
# directory's owner, so uid 1000 can write it.
RUN install -d -o 1000 -g 1000 /model-store
ENV NODE_ENV=production HOST=0.0.0.0 LANG=C.UTF-8
WORKDIR /app
COPY --from=deps-cpu /app/node_modules ./node_modules
COPY --from=build /src/dist/apps ./dist/apps
COPY --from=build /src/dist/libs ./dist/libs
COPY package.json ./
COPY apps/api/public ./apps/api/public
COPY models ./models
COPY docker/healthcheck.mjs ./docker/healthcheck.mjs
# uid 1000 is the node user of the Node image; numeric so Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["node", "docker/healthcheck.mjs"]
CMD ["node", "--initial-old-space-size=128", "dist/apps/api/src/main.js"]
