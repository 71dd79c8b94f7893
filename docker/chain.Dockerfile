# The dev chain: a Hardhat 3 network node (Hardhat 3 needs Node 22) that deploys Hearth's contracts on start
# (DataPermissions from dev account #0 at nonce 0, so at a fixed address). For development and tests only: a
# real deployment points CHAIN_RPC_URL at a real chain.
ARG NODE_IMAGE=node:22-bookworm-slim

# The lockfile cut to Hardhat, viem and undici with what they need, and to the compiler (see docker/Dockerfile).
FROM ${NODE_IMAGE} AS locks
COPY package.json package-lock.json /repo/
COPY docker/lock-subset.js /repo/docker/
RUN node /repo/docker/lock-subset.js /locks/chain hardhat viem undici \
 && node /repo/docker/lock-subset.js /locks/compiler @swc/cli @swc/core

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=locks /locks/chain/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn \
 && npm cache clean --force && rm -rf /root/.npm

FROM ${NODE_IMAGE} AS build
WORKDIR /tools
COPY --from=locks /locks/compiler/ ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=warn
WORKDIR /app
COPY tsconfig.json .swcrc ./
COPY libs ./libs
COPY contracts/scripts ./contracts/scripts
RUN /tools/node_modules/.bin/swc libs/errors/src libs/permissions/src contracts/scripts -d dist --copy-files --quiet \
 && find dist \( -name '*spec.js' -o -name '*spec.js.map' -o -name '*medium-cases.js' \) -delete

FROM ${NODE_IMAGE}
ENV HARDHAT_DISABLE_TELEMETRY=true
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
# repoRoot() finds the directory whose package.json is Hearth's.
COPY package.json ./
COPY contracts/hardhat ./contracts/hardhat
COPY --from=build /app/dist ./dist
# Hardhat writes its cache beside its config; the deployment file goes to .hearth/deployments.
RUN mkdir -p .hearth contracts/.hardhat && chown node:node .hearth contracts/.hardhat
USER node
EXPOSE 8545
# Healthy once DataPermissions has code at its fixed address (bash's /dev/tcp: no second Node process).
HEALTHCHECK --interval=3s --timeout=5s --start-period=60s --retries=20 \
  CMD ["bash", "-c", "b='{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getCode\",\"params\":[\"0x5FbDB2315678afecb367f032d93F642f64180aa3\",\"latest\"]}'; exec 3<>/dev/tcp/127.0.0.1/8545 && printf 'POST / HTTP/1.0\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n%s' ${#b} \"$b\" >&3 && grep -q '\"result\":\"0x[0-9a-f]' <&3"]
CMD ["node", "dist/contracts/scripts/chain.js", "--host", "0.0.0.0", "--port", "8545"]
