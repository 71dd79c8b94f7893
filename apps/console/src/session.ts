import { HearthOwner, isHearthProblem } from '@hearth/sdk';
import { useSyncExternalStore } from 'react';
import type { WalletClient } from 'viem';
import { forgetWallet, isUserRejection, requireChain, walletFor, WrongChainError } from './wallet';

/**
 * The owner's session: the SIWE token in sessionStorage (gone when the tab closes, never in localStorage), and
 * a HearthOwner client over it. A 401 anywhere clears it and sends the page to sign-in, remembering where it was.
 */
const STORAGE_KEY = 'hearth.session';

export interface Session {
  token: string;
  address: `0x${string}`;
  /** The chain sign-in happened on: every signature the console asks for is on it. */
  chainId: number;
}

const listeners = new Set<() => void>();
let cached: { raw: string | null; session: Session | null } = { raw: null, session: null };

function read(): Session | null {
  const raw = window.sessionStorage.getItem(STORAGE_KEY);
  if (raw !== cached.raw) {
    let session: Session | null = null;
    try {
      const parsed = raw ? (JSON.parse(raw) as Partial<Session>) : null;
      if (
        parsed &&
        typeof parsed.token === 'string' &&
        typeof parsed.address === 'string' &&
        typeof parsed.chainId === 'number'
      ) {
        session = { token: parsed.token, address: parsed.address, chainId: parsed.chainId };
      }
    } catch {
      session = null;
    }
    cached = { raw, session };
  }
  return cached.session;
}

function changed(): void {
  client = undefined;
  for (const l of listeners) l();
}

export function saveSession(session: Session): void {
  window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  changed();
}

export function clearSession(): void {
  window.sessionStorage.removeItem(STORAGE_KEY);
  forgetWallet();
  changed();
}

export function currentSession(): Session | null {
  return read();
}

export function useSession(): Session | null {
  return useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, read);
}

let client: HearthOwner | undefined;

/** The API client of the current session (throws when signed out: callers are behind the sign-in gate). */
export function owner(): HearthOwner {
  const session = read();
  if (!session) throw new Error('not signed in');
  client ??= new HearthOwner({
    baseUrl: window.location.origin,
    token: session.token,
    address: session.address,
  });
  return client;
}

/** A message a person can act on, for any error a page shows. */
export function describeError(err: unknown): string {
  if (isUserRejection(err)) return 'You rejected the request in your wallet. Nothing was signed or changed.';
  if (err instanceof WrongChainError) return err.message;
  if (isHearthProblem(err)) {
    if (err.code === 'payload_too_large' || (err.status === 413 && err.code === 'quota_exceeded')) {
      return `The file is too large for this server: ${err.detail} Nothing was stored.`;
    }
    const fields = err.errors?.length
      ? ` (${err.errors.map((e) => `${e.field}: ${e.message}`).join('; ')})`
      : '';
    return `${err.detail}${fields} [${err.code}]`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The signed-in account's wallet, on the session's chain (a wallet on another chain is refused, clearly). */
export async function signingWallet(): Promise<WalletClient> {
  const session = read();
  if (!session) throw new Error('not signed in');
  const wallet = await walletFor(session.address);
  await requireChain(wallet, session.chainId);
  return wallet;
}
