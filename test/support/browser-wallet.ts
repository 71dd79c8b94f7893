import type { BrowserContext } from 'playwright-core';
import type { PrivateKeyAccount } from 'viem/accounts';

/**
 * An EIP-1193 wallet for a Playwright page: the page gets a provider (announced through EIP-6963) whose
 * requests are bridged to Node, where a viem local account signs for real. Tests change `chainId` and
 * `rejectNext` to act as a person would (switch network, press "Reject").
 */
export interface TestWallet {
  account: PrivateKeyAccount;
  chainId: number;
  /** Signature requests (personal_sign, eth_signTypedData_v4) answered with EIP-1193 error 4001 until cleared. */
  reject: boolean;
  /** Every method the page called, in order. */
  calls: string[];
}

const PROVIDER_SCRIPT = `(() => {
  const provider = {
    async request({ method, params }) {
      const answer = await window.__hearthTestWallet(method, JSON.stringify(params ?? []));
      if (answer.error) {
        const err = new Error(answer.error.message);
        err.code = answer.error.code;
        throw err;
      }
      return answer.result;
    },
    on() {},
    removeListener() {},
  };
  const info = Object.freeze({
    uuid: '5b0e4c1e-7f6a-4d3c-9a43-2f9b8c7d6e5f',
    name: 'Test Wallet',
    icon: 'data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 viewBox=%220 0 1 1%22/%3E',
    rdns: 'org.hearth.test-wallet',
  });
  const announce = () =>
    window.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: Object.freeze({ info, provider }) }));
  window.addEventListener('eip6963:requestProvider', announce);
  announce();
})();`;

type Answer = { result: unknown } | { error: { code: number; message: string } };

export async function installTestWallet(context: BrowserContext, wallet: TestWallet): Promise<void> {
  await context.exposeFunction(
    '__hearthTestWallet',
    async (method: string, paramsJson: string): Promise<Answer> => {
      wallet.calls.push(method);
      const params = JSON.parse(paramsJson) as unknown[];
      const signing = method === 'personal_sign' || method === 'eth_signTypedData_v4';
      if (signing && wallet.reject) return { error: { code: 4001, message: 'User rejected the request.' } };
      switch (method) {
        case 'eth_requestAccounts':
        case 'eth_accounts':
          return { result: [wallet.account.address] };
        case 'eth_chainId':
          return { result: `0x${wallet.chainId.toString(16)}` };
        case 'wallet_switchEthereumChain':
          wallet.chainId = Number.parseInt((params[0] as { chainId: string }).chainId, 16);
          return { result: null };
        case 'personal_sign':
          return {
            result: await wallet.account.signMessage({ message: { raw: params[0] as `0x${string}` } }),
          };
        case 'eth_signTypedData_v4': {
          const typed = JSON.parse(params[1] as string) as {
            domain: Record<string, unknown>;
            types: Record<string, unknown>;
            primaryType: string;
            message: Record<string, unknown>;
          };
          delete typed.types.EIP712Domain;
          // The wallet signs whatever typed data the page sends, exactly as a real wallet would.
          return { result: await wallet.account.signTypedData(typed) };
        }
        default:
          return { error: { code: 4200, message: `unsupported method ${method}` } };
      }
    },
  );
  await context.addInitScript(PROVIDER_SCRIPT);
}
