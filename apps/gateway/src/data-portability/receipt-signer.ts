import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { identityKeyContext } from '@hearth/blobs';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { DataKeyCache, type KeyManager } from '@hearth/kms';
import {
  type ReceiptMessage,
  receiptHash,
  receiptTypedData,
  signDigest,
  type SignedReceipt,
} from '@hearth/receipts';
import { getAddress, type Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { KEY_MANAGER } from '../keys/key-manager.token';

/** What signing needs of a server: its id, tenant key, wrapped identity key and address. */
export interface SigningServer {
  id: string;
  kmsKeyRef: string;
  wrappedIdentityKey: Buffer;
  address: string;
}

/**
 * Signs receipts in the gateway with the server's identity key, for what the gateway serves itself (Data
 * Portability reads and refusals), as the worker does for operations. The key is unwrapped through the key
 * manager and kept in memory only (DataKeyCache, METADATA_KEY_CACHE_SECONDS), checked once against the server's
 * address: a key that is not the server's signs nothing.
 */
@Injectable()
export class ReceiptSigner implements OnModuleDestroy {
  private readonly cache: DataKeyCache;
  private readonly checked = new Set<string>();

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
  ) {
    this.cache = new DataKeyCache(config.METADATA_KEY_CACHE_SECONDS * 1000, 1000);
  }

  async sign(
    server: SigningServer,
    message: Omit<ReceiptMessage, 'server'>,
  ): Promise<{ receipt: SignedReceipt; digest: Hex }> {
    const key = await this.cache.get(server.id, server.wrappedIdentityKey, () =>
      this.keys.decrypt(server.kmsKeyRef, server.wrappedIdentityKey, identityKeyContext(server.id)),
    );
    const privateKey: Hex = `0x${key.toString('hex')}`;
    const checkId = `${server.id}:${server.address.toLowerCase()}`;
    if (!this.checked.has(checkId)) {
      if (privateKeyToAddress(privateKey).toLowerCase() !== server.address.toLowerCase()) {
        throw new Error(`the identity key of ${server.id} does not match its address`);
      }
      if (this.checked.size > 10_000) this.checked.clear();
      this.checked.add(checkId);
    }
    const serverAddress = getAddress(server.address);
    const typedData = receiptTypedData(this.config.CHAIN_ID, { ...message, server: serverAddress });
    const digest = receiptHash(typedData);
    const signature = signDigest(digest, privateKey);
    return { receipt: { typedData, signature, signer: serverAddress }, digest };
  }

  onModuleDestroy(): void {
    this.cache.clear();
  }
}
