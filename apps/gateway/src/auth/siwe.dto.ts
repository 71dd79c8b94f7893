import { z } from 'zod';

export const siweBody = z
  .object({
    message: z.string().min(1).max(4096, 'must be at most 4096 characters'),
    signature: z
      .string()
      .max(8194, 'must be at most 4096 bytes')
      .regex(/^0x(?:[0-9a-fA-F]{2})+$/, 'must be 0x-prefixed hex bytes'),
  })
  .strict();
export type SiweBody = z.infer<typeof siweBody>;

export interface NonceResponse {
  nonce: string;
  domain: string;
  /** An origin the message's `uri` may have (the public URL, or on a laptop the printed one). */
  uri: string;
  chainId: number;
}

export interface SessionResponse {
  token: string;
  expiresAt: string;
  address: `0x${string}`;
}
