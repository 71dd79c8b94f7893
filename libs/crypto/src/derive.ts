import { hkdfSync } from 'node:crypto';

/**
 * A subkey of a data key (HKDF-SHA256, 32 bytes): what is sealed under it follows the data key's policy, so
 * shredding the data key (deleting the file, removing a member) shreds the subkey's ciphertext too.
 */
export function deriveSubkey(dataKey: Uint8Array, salt: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.from(salt, 'utf8'), Buffer.from(info, 'utf8'), 32));
}
