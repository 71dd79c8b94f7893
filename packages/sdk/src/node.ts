import { createCipheriv } from 'node:crypto';
import { type AeadBackend, setDefaultAead } from './envelope';

/**
 * The Node entry point: everything of the browser build, with node:crypto as the envelope's AES-256-GCM
 * (synchronous and native: no WebCrypto round trip per 64 KiB chunk).
 */
export const nodeCryptoAead: AeadBackend = {
  name: 'node:crypto',
  concurrency: 1,
  async sealer(key) {
    const k = Buffer.from(key); // our own copy: the caller wipes its key after this returns
    return (nonce, aad, plaintext) => {
      const cipher = createCipheriv('aes-256-gcm', k, nonce);
      cipher.setAAD(aad);
      const ct = cipher.update(plaintext);
      cipher.final();
      return [ct, cipher.getAuthTag()];
    };
  },
};

setDefaultAead(nodeCryptoAead);

export * from './index';
