import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { AddressInfo, Server } from 'node:net';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { SessionRepository } from '@hearth/db';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { newId } from '@hearth/ids';
import type Redis from 'ioredis';
import {
  createPublicClient,
  getAddress,
  type Hex,
  http,
  isAddress,
  type PublicClient,
  recoverMessageAddress,
} from 'viem';
import { generateSiweNonce, parseSiweMessage } from 'viem/siwe';
import { REDIS } from '../infra/infra.module';
import { ServerProvisioner } from '../servers/server-provisioner.service';
import type { NonceResponse, SessionResponse, SiweBody } from './siwe.dto';
import { newSessionToken, sha256 } from './tokens';

/** A nonce is single-use and lives this long. */
export const NONCE_TTL_SECONDS = 300;
/** Tolerated clock difference between the wallet and us. */
const CLOCK_SKEW_MS = 60_000;
/** ERC-6492 signatures (counterfactual smart wallets) end with these 32 bytes. */
const ERC6492_SUFFIX = '6492649264926492649264926492649264926492649264926492649264926492';

function unauthorized(code: ErrorCode, detail: string): ProblemError {
  return new ProblemError(401, code, detail);
}

/**
 * Sign-In with Ethereum (EIP-4361) on viem's own siwe module. Checks, in order: the message parses, names
 * our domain and chain, is inside its validity window, is signed by its address (an EOA locally; a smart
 * wallet via ERC-1271/6492 on the chain), and carries a nonce we issued, consumed atomically (GETDEL).
 */
@Injectable()
export class SiweService implements OnModuleInit {
  private chain!: PublicClient;
  private readonly noncePrefix: string;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly sessions: SessionRepository,
    private readonly provisioner: ServerProvisioner,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.noncePrefix = `${config.QUEUE_PREFIX}:siwe:nonce:`;
  }

  onModuleInit(): void {
    // Only smart-wallet signatures touch the chain: an EOA sign-in works with the chain down.
    this.chain = createPublicClient({
      transport: http(this.config.CHAIN_RPC_URL, { timeout: this.config.CHAIN_TIMEOUT_MS, retryCount: 0 }),
    });
  }

  async issueNonce(): Promise<NonceResponse> {
    const nonce = generateSiweNonce();
    await this.redis.set(this.noncePrefix + nonce, '1', 'EX', NONCE_TTL_SECONDS);
    return {
      nonce,
      domain: this.config.SIWE_DOMAIN ?? new URL(this.origins()[0]).host,
      uri: this.origins()[0],
      chainId: this.config.CHAIN_ID,
    };
  }

  async signIn(body: SiweBody): Promise<SessionResponse> {
    const { address, nonce, expirationTime } = this.checkMessage(body.message);
    const signature = body.signature as Hex;
    if (!(await this.signatureValid(address, body.message, signature))) {
      throw unauthorized(
        ErrorCode.invalid_signature,
        'The signature does not match the message and its address',
      );
    }
    // Last, so a message failing any other check does not burn its nonce; GETDEL makes reuse impossible.
    const issued = await this.redis.getdel(this.noncePrefix + nonce);
    if (issued === null) {
      throw unauthorized(
        ErrorCode.nonce_invalid,
        'The nonce is unknown, expired or already used: get a new one from /v1/auth/nonce',
      );
    }

    const { account } = await this.provisioner.ensurePersonalServer(address);
    const token = newSessionToken();
    const ttlEnd = Date.now() + this.config.SESSION_TTL_SECONDS * 1000;
    // A message that expires sooner than our session lifetime bounds the session.
    const expiresAt = new Date(Math.min(ttlEnd, expirationTime?.getTime() ?? ttlEnd));
    await this.sessions.create({
      id: newId('ses'),
      accountId: account.id,
      tokenHash: sha256(token),
      expiresAt,
    });
    return { token, expiresAt: expiresAt.toISOString(), address: getAddress(address) };
  }

  async signOut(accountId: string, sessionId: string): Promise<void> {
    await this.sessions.revoke(accountId, sessionId);
  }

  private checkMessage(message: string): { address: Hex; nonce: string; expirationTime?: Date } {
    const m = parseSiweMessage(message);
    const missing = (['domain', 'address', 'uri', 'version', 'chainId', 'nonce', 'issuedAt'] as const).filter(
      (f) => m[f] === undefined,
    );
    if (missing.length) {
      throw unauthorized(
        ErrorCode.invalid_siwe_message,
        `Not an EIP-4361 message: missing ${missing.join(', ')}`,
      );
    }
    if (m.version !== '1')
      throw unauthorized(ErrorCode.invalid_siwe_message, 'Only SIWE version 1 is supported');
    if (!m.address || !isAddress(m.address, { strict: true })) {
      throw unauthorized(ErrorCode.invalid_siwe_message, 'The address is not a valid EIP-55 address');
    }
    for (const field of ['issuedAt', 'expirationTime', 'notBefore'] as const) {
      const value = m[field];
      if (value !== undefined && Number.isNaN(value.getTime())) {
        throw unauthorized(ErrorCode.invalid_siwe_message, `${field} is not an RFC 3339 date-time`);
      }
    }
    this.checkOrigin(m.domain!, m.uri!, m.scheme);
    if (m.chainId !== this.config.CHAIN_ID) {
      throw unauthorized(ErrorCode.wrong_chain, `The message must be for chain ${this.config.CHAIN_ID}`);
    }
    const now = Date.now();
    if (m.expirationTime && m.expirationTime.getTime() <= now) {
      throw unauthorized(ErrorCode.message_expired, 'The message has expired');
    }
    if (m.notBefore && m.notBefore.getTime() > now + CLOCK_SKEW_MS) {
      throw unauthorized(ErrorCode.message_expired, 'The message is not valid yet (notBefore)');
    }
    const issuedAt = m.issuedAt!.getTime();
    if (issuedAt > now + CLOCK_SKEW_MS) {
      throw unauthorized(ErrorCode.invalid_siwe_message, 'issuedAt is in the future');
    }
    if (issuedAt < now - NONCE_TTL_SECONDS * 1000 - CLOCK_SKEW_MS) {
      throw unauthorized(ErrorCode.message_expired, 'The message was issued too long ago: sign a fresh one');
    }
    return { address: m.address, nonce: m.nonce!, expirationTime: m.expirationTime };
  }

  /**
   * One rule (docs/api.md#sign-in-owners): the `uri` has one of this gateway's public origins (PUBLIC_URL's, or
   * on a laptop the printed URL and localhost), the `domain` is SIWE_DOMAIN when set, else that origin's host,
   * and `scheme`, when given, is that origin's. A message for a phishing page's URI is refused even when it
   * names our domain.
   */
  private checkOrigin(domain: string, uri: string, scheme: string | undefined): void {
    const { SIWE_DOMAIN } = this.config;
    const siweOrigins = this.origins();
    const wrong = (what: string) =>
      unauthorized(ErrorCode.wrong_domain, `${what}; this API signs in on ${siweOrigins.join(' or ')}`);
    let origin: string;
    try {
      origin = new URL(uri).origin;
    } catch {
      throw unauthorized(ErrorCode.invalid_siwe_message, 'The uri is not a URI');
    }
    const matched = siweOrigins.find((o) => o === origin);
    if (!matched) throw wrong(`The message's uri is on ${origin}`);
    const url = new URL(matched);
    const expectedDomain = SIWE_DOMAIN ?? url.host;
    if (domain.toLowerCase() !== expectedDomain.toLowerCase())
      throw wrong(`The message must be for the domain ${expectedDomain}`);
    if (scheme !== undefined && `${scheme.toLowerCase()}:` !== url.protocol)
      throw wrong(`The message's scheme must be ${url.protocol.slice(0, -1)}`);
  }

  /**
   * The public origins of the config; on an ephemeral port (PORT=0, tests and benches) the port the server
   * actually listens on, which only exists once it listens.
   */
  private origins(): string[] {
    const { siweOrigins, PUBLIC_URL, PORT } = this.config;
    if (PUBLIC_URL || PORT !== 0) return siweOrigins;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    const address = server?.address() as AddressInfo | null | undefined;
    if (!address?.port) return siweOrigins;
    return siweOrigins.map((o) => o.replace(/:0$/, `:${address.port}`));
  }

  private async signatureValid(address: Hex, message: string, signature: Hex): Promise<boolean> {
    const erc6492 = signature.toLowerCase().endsWith(ERC6492_SUFFIX);
    if (signature.length === 132 && !erc6492) {
      try {
        const signer = await recoverMessageAddress({ message, signature });
        if (signer.toLowerCase() === address.toLowerCase()) return true;
      } catch {
        // not a valid ECDSA signature: maybe a smart wallet's
      }
    }
    // Smart wallets (ERC-1271, or ERC-6492 before deployment) need the chain.
    try {
      if (!erc6492) {
        const code = await this.chain.getCode({ address });
        if (!code || code === '0x') return false;
      }
      return await this.chain.verifyMessage({ address, message, signature });
    } catch {
      throw unauthorized(
        ErrorCode.invalid_signature,
        'The signature is not an EOA signature of this address, and the chain needed to check a smart-wallet signature is unavailable',
      );
    }
  }
}
