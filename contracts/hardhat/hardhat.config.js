// Hardhat 3 config for the dev chain only (`hardhat node`). Contracts are compiled by
// contracts/scripts/build.ts with solc-js, so no Solidity sources are configured here and Hardhat
// never downloads a compiler. Chain id 31337 (Hardhat's default for the `node` network).
export default {
  paths: {
    sources: '../.hardhat/no-sources',
    artifacts: '../.hardhat/artifacts',
    cache: '../.hardhat/cache',
  },
  networks: {
    node: {
      type: 'edr-simulated',
      chainType: 'l1',
      chainId: 31337,
    },
  },
};
