# SupportGym world service: `supportgym serve` on port 8000, as a non-root user, with the
# default world (seed 7, scale default) generated at build time.
#
# Build context: a folder holding wheels/deps/*.whl (every dependency) and wheels/app/*.whl
# (the supportgym wheel). scripts/build-image makes one and builds on the debootstrapped base:
#     scripts/build-image                      # -> supportgym:dev
# Elsewhere, on the official Python image (the default BASE_IMAGE):
#     pip wheel . -w ctx/wheels/deps && mkdir -p ctx/wheels/app \
#       && mv ctx/wheels/deps/supportgym-*.whl ctx/wheels/app/ \
#       && docker build -f Dockerfile -t supportgym:dev ctx
# See docs/docker.md.
ARG BASE_IMAGE=python:3.11-slim

# --- build: a virtualenv filled from the wheelhouse, nothing from the network --------------
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# Debootstrapped bases have no `python` alias: always python3.
COPY wheels/deps /wheels/deps
RUN python3 -m venv /opt/supportgym \
 && /opt/supportgym/bin/pip install --quiet --no-index --find-links /wheels/deps /wheels/deps/*.whl
COPY wheels/app /wheels/app
RUN /opt/supportgym/bin/pip install --quiet --no-index --no-deps --find-links /wheels/app /wheels/app/*.whl \
 && /opt/supportgym/bin/python -c "import supportgym.services.app, supportgym.env" \
 && /opt/supportgym/bin/python -m pip uninstall --quiet --yes pip setuptools wheel

# --- runtime -------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG SUPPORTGYM_UID=10001
LABEL org.opencontainers.image.title="supportgym" \
      org.opencontainers.image.description="SupportGym world service (supportgym serve)" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid ${SUPPORTGYM_UID} supportgym \
 && useradd --system --uid ${SUPPORTGYM_UID} --gid supportgym --home-dir /var/lib/supportgym \
      --create-home --shell /usr/sbin/nologin supportgym \
 && mkdir -p /var/cache/supportgym \
 && chown supportgym:supportgym /var/cache/supportgym
COPY --from=build /opt/supportgym /opt/supportgym
# Configuration: every SUPPORTGYM_* variable below can be changed with `docker run -e`.
# Also read when set: SUPPORTGYM_REAP_INTERVAL_S, SUPPORTGYM_LOG_LEVEL and the judge
# endpoint SUPPORTGYM_JUDGE_BASE_URL / SUPPORTGYM_JUDGE_MODEL / SUPPORTGYM_JUDGE_API_KEY
# (left unset here: no judge unless you give one). SUPPORTGYM_TOKEN (16+ characters) is
# required: the service binds 0.0.0.0 and refuses to do so without a token (docs/security.md).
ENV PATH=/opt/supportgym/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOME=/var/lib/supportgym \
    SUPPORTGYM_CACHE=/var/cache/supportgym \
    SUPPORTGYM_HOST=0.0.0.0 \
    SUPPORTGYM_PORT=8000 \
    SUPPORTGYM_MAX_EPISODES=256 \
    SUPPORTGYM_IDLE_TTL_S=900 \
    SUPPORTGYM_WARM_WORLDS=7/default
USER supportgym
WORKDIR /var/lib/supportgym
# Generate the default world, plus the tiny one tests use (and prepare tasks, when that package
# provides it) into the on-disk cache, owned by the service user: a new container only loads it.
ARG PREBUILD_WORLDS="7/default 7/tiny"
RUN python3 -m supportgym.env.docker_warm ${PREBUILD_WORLDS}
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python3", "-c", "import os, urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:%s/readyz' % os.environ.get('SUPPORTGYM_PORT', '8000'), headers={'Authorization': 'Bearer ' + os.environ.get('SUPPORTGYM_TOKEN', '')}), timeout=2)"]
STOPSIGNAL SIGTERM
CMD ["supportgym", "serve", "--host", "0.0.0.0", "--port", "8000"]
