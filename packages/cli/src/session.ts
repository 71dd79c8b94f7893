import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `hearth login` keeps: the gateway and the session token (never the private key). */
export interface CliSession {
  url: string;
  token: string;
  address: `0x${string}`;
  serverId?: string;
}

/** HEARTH_CLI_CONFIG, else $XDG_CONFIG_HOME/hearth/cli.json, else ~/.config/hearth/cli.json. */
export function sessionPath(): string {
  if (process.env.HEARTH_CLI_CONFIG) return process.env.HEARTH_CLI_CONFIG;
  return join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'hearth', 'cli.json');
}

export function loadSession(): CliSession | undefined {
  try {
    return JSON.parse(readFileSync(sessionPath(), 'utf8')) as CliSession;
  } catch {
    return undefined;
  }
}

export function saveSession(session: CliSession): void {
  const path = sessionPath();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${JSON.stringify(session, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // a token is a credential: owner-only even if the file existed
}

export function forgetSession(): void {
  rmSync(sessionPath(), { force: true });
}
