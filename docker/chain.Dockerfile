# syntax=docker/dockerfile:1
# The dev chain: a Hardhat network node (Hardhat 3 needs Node 22) with Hearth's contracts deployed on start.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json .swcrc ./
COPY apps ./apps
COPY libs ./libs
COPY migrations ./migrations
COPY scripts ./scripts
COPY contracts ./contracts
COPY bench ./bench
COPY test ./test
RUN npm run build

FROM node:22-bookworm-slim
WORKDIR /app
RUN mkdir -p /var/lib/hearth && chown node:node /var/lib/hearth
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 8545
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=5 \
  CMD node -e "fetch('http://127.0.0.1:8545',{method:'POST',headers:{'content-type':'application/json'},body:'{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\"}'}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/contracts/scripts/chain.js", "--host", "0.0.0.0", "--port", "8545"]
