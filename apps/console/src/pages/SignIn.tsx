import { HearthProblemError } from '@hearth/sdk';
import { useEffect, useState } from 'react';
import { createSiweMessage } from 'viem/siwe';
import { navigate, useLocation } from '../router';
import { describeError, saveSession } from '../session';
import {
  connectWallet,
  type DiscoveredWallet,
  discoverWallets,
  requireChain,
  switchChain,
  WrongChainError,
} from '../wallet';

interface Nonce {
  nonce: string;
  domain: string;
  uri: string;
  chainId: number;
}

async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const parsed = (await res.json().catch(() => undefined)) as unknown;
  if (!res.ok) throw HearthProblemError.fromBody(res.status, parsed, res.headers);
  return parsed as T;
}

/** Only same-origin paths of the console: `next` must never send a person elsewhere. */
function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/sign-in')
    ? next
    : '/servers';
}

export function SignInPage(): React.JSX.Element {
  const { search } = useLocation();
  const [wallets, setWallets] = useState<DiscoveredWallet[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [wrongChain, setWrongChain] = useState<{ wallet: DiscoveredWallet; chainId: number } | null>(null);

  useEffect(() => {
    let live = true;
    void discoverWallets().then((found) => live && setWallets(found));
    return () => {
      live = false;
    };
  }, []);

  const signIn = async (wallet: DiscoveredWallet): Promise<void> => {
    setBusy(true);
    setError(null);
    setWrongChain(null);
    try {
      const client = await connectWallet(wallet);
      const nonce = await postJson<Nonce>('/v1/auth/nonce');
      try {
        await requireChain(client, nonce.chainId);
      } catch (err) {
        if (err instanceof WrongChainError) setWrongChain({ wallet, chainId: nonce.chainId });
        throw err;
      }
      const address = client.account?.address as `0x${string}`;
      const message = createSiweMessage({
        domain: nonce.domain,
        address,
        statement: 'Sign in to Hearth',
        uri: nonce.uri,
        version: '1',
        chainId: nonce.chainId,
        nonce: nonce.nonce,
        issuedAt: new Date(),
      });
      const signature = await client.signMessage({ account: address, message });
      const session = await postJson<{ token: string; address: `0x${string}` }>('/v1/auth/siwe', {
        message,
        signature,
      });
      saveSession({ token: session.token, address: session.address, chainId: nonce.chainId });
      navigate(safeNext(search.get('next')), { replace: true });
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  const trySwitch = async (): Promise<void> => {
    if (!wrongChain) return;
    try {
      const client = await connectWallet(wrongChain.wallet);
      await switchChain(client, wrongChain.chainId);
      await signIn(wrongChain.wallet);
    } catch (err) {
      setError(describeError(err));
    }
  };

  return (
    <section className="narrow">
      <h1>Sign in to Hearth</h1>
      {search.get('expired') === '1' && (
        <p className="notice" role="status">
          Your session has expired. Sign in again to go back to the page you were on.
        </p>
      )}
      <p>
        Hearth keeps your personal server: your files, encrypted, and who may run what on them. You sign in
        with your wallet (Sign-In with Ethereum): no password, and nothing is paid.
      </p>
      {wallets === null && <p role="status">Looking for wallets…</p>}
      {wallets?.length === 0 && (
        <p className="error" role="alert">
          No wallet found in this browser. Install a browser wallet (one that supports EIP-1193), then reload.
        </p>
      )}
      <ul className="wallets">
        {wallets?.map((w) => (
          <li key={w.id}>
            <button type="button" className="primary" disabled={busy} onClick={() => void signIn(w)}>
              {w.icon && <img src={w.icon} alt="" width={24} height={24} />} Sign in with {w.name}
            </button>
          </li>
        ))}
      </ul>
      {busy && <p role="status">Check your wallet: it is asking you to sign the sign-in message.</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {wrongChain && (
        <button type="button" onClick={() => void trySwitch()}>
          Switch wallet to chain {wrongChain.chainId}
        </button>
      )}
    </section>
  );
}
