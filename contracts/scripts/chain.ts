/**
 * `npm run chain [-- --host 0.0.0.0 --port 8545]`: starts the dev chain on 127.0.0.1:8545, deploys DataPermissions, writes
 * .hearth/deployments/31337.json, prints what to configure, and runs until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { privateKeyToAccount } from 'viem/accounts';
import { DEV_RELAYER_PRIVATE_KEY } from '@hearth/permissions';
import { deployContracts, writeDeployment } from './deploy';
import { DEFAULT_DEV_CHAIN_PORT, startDevChain } from './dev-chain';

async function main(): Promise<void> {
  // --host 0.0.0.0 for the compose chain service; --port to move it off 8545
  const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' } } });
  const port = values.port === undefined ? DEFAULT_DEV_CHAIN_PORT : Number.parseInt(values.port, 10);
  const chain = await startDevChain({ port, host: values.host });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the dev chain`);
    chain.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  try {
    const deployment = await deployContracts({
      rpcUrl: chain.rpcUrl,
      deployerPrivateKey: DEV_RELAYER_PRIVATE_KEY,
    });
    const file = writeDeployment(deployment);
    console.log(`dev chain        ${chain.rpcUrl} (chain id ${chain.chainId})`);
    console.log(`DataPermissions  ${deployment.dataPermissions} (written to ${file})`);
    console.log(
      `dev relayer      ${privateKeyToAccount(DEV_RELAYER_PRIVATE_KEY).address} (Hardhat account #0, dev only)`,
    );
    console.log('running; Ctrl-C to stop');
  } catch (err) {
    await chain.stop();
    throw err;
  }
  // Stay in the foreground: the signal handlers end the process.
  setInterval(() => undefined, 1 << 30);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
