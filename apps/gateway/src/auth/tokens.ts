import { hash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'hth_live_';
export const SESSION_TOKEN_PREFIX = 'hth_ses_';
/** 32 random bytes as base64url: 43 characters. */
const SECRET_BODY = /^[A-Za-z0-9_-]{43}$/;
/** How much of an API key lists show, so owners can tell keys apart (prefix + 4 characters: 24 bits). */
const DISPLAY_CHARS = 4;

export function sha256(value: string): Buffer {
  return hash('sha256', value, 'buffer');
}

export function newSessionToken(): string {
  return SESSION_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function newApiKeySecret(): { key: string; hash: Buffer; prefix: string } {
  const key = API_KEY_PREFIX + randomBytes(32).toString('base64url');
  return { key, hash: sha256(key), prefix: key.slice(0, API_KEY_PREFIX.length + DISPLAY_CHARS) };
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(API_KEY_PREFIX) && SECRET_BODY.test(value.slice(API_KEY_PREFIX.length));
}

export function looksLikeSessionToken(value: string): boolean {
  return value.startsWith(SESSION_TOKEN_PREFIX) && SECRET_BODY.test(value.slice(SESSION_TOKEN_PREFIX.length));
}

/** The bearer credential of a request, or undefined (scheme is case-insensitive per RFC 7235). */
export function bearerOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
