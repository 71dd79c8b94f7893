/**
 * A small wire-level fake of AWS KMS (JSON 1.1 protocol: POST /, `X-Amz-Target: TrentService.<Op>`,
 * JSON bodies with base64 blobs, errors as HTTP 400 `{"__type": "...", "message": "..."}`).
 * It really encrypts (AES-256-GCM per key), binds and enforces EncryptionContext, and enforces key
 * state (Enabled / Disabled / PendingDeletion), so the real @aws-sdk/client-kms can be tested
 * against it over HTTP with dummy credentials. Signatures are not verified (only required).
 */
import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

export interface FakeKmsKey {
  keyId: string;
  arn: string;
  material: Buffer;
  state: KeyState;
  description: string;
  tags: Array<{ TagKey: string; TagValue: string }>;
  createdAt: number;
  deletionDate?: number;
}

export interface FakeKmsRequest {
  operation: string;
  body: Record<string, unknown>;
}

export interface FakeKms {
  /** Endpoint for the SDK, e.g. http://127.0.0.1:41234 */
  readonly endpoint: string;
  readonly region: string;
  readonly keys: Map<string, FakeKmsKey>;
  readonly aliases: Map<string, string>;
  /** Every request received, in order (bodies as sent, blobs still base64). */
  readonly requests: FakeKmsRequest[];
  close(): Promise<void>;
}

class KmsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const BLOB_MAGIC = Buffer.from([0x01, 0x46, 0x4b]); // version 1, "FK"

function canonical(context: unknown): Buffer {
  if (context === undefined) return Buffer.from('{}');
  if (typeof context !== 'object' || context === null || Array.isArray(context)) {
    throw new KmsFault('ValidationException', 'EncryptionContext must be a map of strings');
  }
  const entries = Object.entries(context as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  for (const [, v] of entries) {
    if (typeof v !== 'string')
      throw new KmsFault('ValidationException', 'EncryptionContext values must be strings');
  }
  return Buffer.from(JSON.stringify(entries));
}

function blob(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || value.length === 0) {
    throw new KmsFault('ValidationException', `${field} is required`);
  }
  return Buffer.from(value, 'base64');
}

/** Ciphertext blob: magic (3) || u16 keyId length || keyId || nonce (12) || ct || tag (16). */
function sealFor(key: FakeKmsKey, plaintext: Buffer, context: unknown): Buffer {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.material, nonce);
  cipher.setAAD(canonical(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const id = Buffer.from(key.keyId, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(id.length);
  return Buffer.concat([BLOB_MAGIC, len, id, nonce, body, cipher.getAuthTag()]);
}

function parseBlob(ciphertext: Buffer): { keyId: string; nonce: Buffer; body: Buffer; tag: Buffer } {
  if (ciphertext.length < 5 || !ciphertext.subarray(0, 3).equals(BLOB_MAGIC)) {
    throw new KmsFault('InvalidCiphertextException', 'ciphertext is not a KMS blob');
  }
  const idLen = ciphertext.readUInt16BE(3);
  const rest = ciphertext.subarray(5 + idLen);
  if (rest.length < 28) throw new KmsFault('InvalidCiphertextException', 'ciphertext too short');
  return {
    keyId: ciphertext.subarray(5, 5 + idLen).toString('utf8'),
    nonce: rest.subarray(0, 12),
    body: rest.subarray(12, rest.length - 16),
    tag: rest.subarray(rest.length - 16),
  };
}

export interface FakeKmsOptions {
  region?: string;
  accountId?: string;
  /** Port on 127.0.0.1 (a free one when omitted). */
  port?: number;
  /**
   * Keys and aliases are kept in this file (read at start, rewritten after every change), so a fake that is
   * killed and started again on the same file still decrypts what it encrypted before, as AWS KMS would.
   */
  stateFile?: string;
}

interface StoredState {
  keys: Array<Omit<FakeKmsKey, 'material'> & { material: string }>;
  aliases: Array<[string, string]>;
}

export async function startFakeKms(options: FakeKmsOptions = {}): Promise<FakeKms> {
  const region = options.region ?? 'eu-west-1';
  const accountId = options.accountId ?? '111122223333';
  const keys = new Map<string, FakeKmsKey>();
  const aliases = new Map<string, string>(); // alias name → keyId
  const requests: FakeKmsRequest[] = [];
  const { stateFile } = options;
  if (stateFile && existsSync(stateFile)) {
    const stored = JSON.parse(readFileSync(stateFile, 'utf8')) as StoredState;
    for (const k of stored.keys) keys.set(k.keyId, { ...k, material: Buffer.from(k.material, 'base64') });
    for (const [name, keyId] of stored.aliases) aliases.set(name, keyId);
  }
  const persist = (): void => {
    if (!stateFile) return;
    const stored: StoredState = {
      keys: [...keys.values()].map((k) => ({ ...k, material: k.material.toString('base64') })),
      aliases: [...aliases],
    };
    writeFileSync(`${stateFile}.tmp`, JSON.stringify(stored));
    renameSync(`${stateFile}.tmp`, stateFile);
  };
  const MUTATING = new Set(['CreateKey', 'CreateAlias', 'DisableKey', 'ScheduleKeyDeletion']);

  const resolve = (keyIdParam: unknown): FakeKmsKey => {
    if (typeof keyIdParam !== 'string' || keyIdParam.length === 0) {
      throw new KmsFault('ValidationException', 'KeyId is required');
    }
    let id = keyIdParam;
    const aliasArn = /^arn:aws:kms:[^:]+:\d+:(alias\/.+)$/.exec(id);
    if (aliasArn) id = aliasArn[1];
    if (id.startsWith('alias/')) id = aliases.get(id) ?? '';
    const keyArn = /^arn:aws:kms:[^:]+:\d+:key\/(.+)$/.exec(id);
    if (keyArn) id = keyArn[1];
    const key = keys.get(id);
    if (!key) throw new KmsFault('NotFoundException', `Key '${keyIdParam}' does not exist`);
    return key;
  };
  const requireEnabled = (key: FakeKmsKey): void => {
    if (key.state === 'Disabled') throw new KmsFault('DisabledException', `${key.arn} is disabled.`);
    if (key.state === 'PendingDeletion')
      throw new KmsFault('KMSInvalidStateException', `${key.arn} is pending deletion.`);
  };
  const metadata = (key: FakeKmsKey): Record<string, unknown> => ({
    AWSAccountId: accountId,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.createdAt,
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: key.state,
    KeySpec: 'SYMMETRIC_DEFAULT',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    KeyManager: 'CUSTOMER',
    Origin: 'AWS_KMS',
    MultiRegion: false,
    ...(key.deletionDate !== undefined ? { DeletionDate: key.deletionDate } : {}),
  });

  const ops: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    CreateKey(body) {
      const keyId = randomUUID();
      const key: FakeKmsKey = {
        keyId,
        arn: `arn:aws:kms:${region}:${accountId}:key/${keyId}`,
        material: randomBytes(32),
        state: 'Enabled',
        description: typeof body.Description === 'string' ? body.Description : '',
        tags: Array.isArray(body.Tags) ? (body.Tags as FakeKmsKey['tags']) : [],
        createdAt: Date.now() / 1000,
      };
      keys.set(keyId, key);
      return { KeyMetadata: metadata(key) };
    },
    CreateAlias(body) {
      const name = body.AliasName;
      if (
        typeof name !== 'string' ||
        !/^alias\/[a-zA-Z0-9/_-]+$/.test(name) ||
        name.startsWith('alias/aws/')
      ) {
        throw new KmsFault('ValidationException', 'invalid AliasName');
      }
      if (aliases.has(name)) throw new KmsFault('AlreadyExistsException', `${name} already exists`);
      aliases.set(name, resolve(body.TargetKeyId).keyId);
      return {};
    },
    DescribeKey(body) {
      return { KeyMetadata: metadata(resolve(body.KeyId)) };
    },
    ListKeys(body) {
      const limit = typeof body.Limit === 'number' ? body.Limit : 100;
      return {
        Keys: [...keys.values()].slice(0, limit).map((k) => ({ KeyId: k.keyId, KeyArn: k.arn })),
        Truncated: false,
      };
    },
    GenerateDataKey(body) {
      const key = resolve(body.KeyId);
      requireEnabled(key);
      let size: number;
      if (body.KeySpec === 'AES_256') size = 32;
      else if (body.KeySpec === 'AES_128') size = 16;
      else if (
        typeof body.NumberOfBytes === 'number' &&
        body.NumberOfBytes >= 1 &&
        body.NumberOfBytes <= 1024
      ) {
        size = body.NumberOfBytes;
      } else throw new KmsFault('ValidationException', 'KeySpec or NumberOfBytes is required');
      const plaintext = randomBytes(size);
      return {
        KeyId: key.arn,
        Plaintext: plaintext.toString('base64'),
        CiphertextBlob: sealFor(key, plaintext, body.EncryptionContext).toString('base64'),
      };
    },
    Encrypt(body) {
      const key = resolve(body.KeyId);
      requireEnabled(key);
      const plaintext = blob(body.Plaintext, 'Plaintext');
      if (plaintext.length > 4096)
        throw new KmsFault('ValidationException', 'Plaintext is larger than 4096 bytes');
      return {
        KeyId: key.arn,
        CiphertextBlob: sealFor(key, plaintext, body.EncryptionContext).toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    Decrypt(body) {
      const parsed = parseBlob(blob(body.CiphertextBlob, 'CiphertextBlob'));
      const key = keys.get(parsed.keyId);
      if (!key) throw new KmsFault('InvalidCiphertextException', 'ciphertext refers to an unknown key');
      if (body.KeyId !== undefined && resolve(body.KeyId).keyId !== key.keyId) {
        throw new KmsFault(
          'IncorrectKeyException',
          'The key ID in the request does not identify the key that encrypted the ciphertext.',
        );
      }
      requireEnabled(key);
      const decipher = createDecipheriv('aes-256-gcm', key.material, parsed.nonce);
      decipher.setAAD(canonical(body.EncryptionContext));
      decipher.setAuthTag(parsed.tag);
      let plaintext: Buffer;
      try {
        plaintext = Buffer.concat([decipher.update(parsed.body), decipher.final()]);
      } catch {
        throw new KmsFault('InvalidCiphertextException', ''); // as AWS: no hint whether key or context was wrong
      }
      return {
        KeyId: key.arn,
        Plaintext: plaintext.toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    DisableKey(body) {
      const key = resolve(body.KeyId);
      if (key.state === 'PendingDeletion')
        throw new KmsFault('KMSInvalidStateException', `${key.arn} is pending deletion.`);
      key.state = 'Disabled';
      return {};
    },
    ScheduleKeyDeletion(body) {
      const key = resolve(body.KeyId);
      const days = body.PendingWindowInDays === undefined ? 30 : body.PendingWindowInDays;
      if (typeof days !== 'number' || !Number.isInteger(days) || days < 7 || days > 30) {
        throw new KmsFault('ValidationException', 'PendingWindowInDays must be between 7 and 30');
      }
      if (key.state === 'PendingDeletion')
        throw new KmsFault('KMSInvalidStateException', `${key.arn} is pending deletion.`);
      key.state = 'PendingDeletion';
      key.deletionDate = Math.floor(Date.now() / 1000) + days * 86_400;
      return {
        KeyId: key.arn,
        DeletionDate: key.deletionDate,
        KeyState: 'PendingDeletion',
        PendingWindowInDays: days,
      };
    },
  };

  const send = (res: ServerResponse, status: number, payload: unknown): void => {
    const text = JSON.stringify(payload);
    res.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    try {
      const target = req.headers['x-amz-target'];
      if (req.method !== 'POST' || typeof target !== 'string' || !target.startsWith('TrentService.')) {
        throw new KmsFault('UnknownOperationException', 'expected POST with X-Amz-Target: TrentService.<Op>');
      }
      if (!String(req.headers['content-type']).startsWith('application/x-amz-json-1.1')) {
        throw new KmsFault('SerializationException', 'Content-Type must be application/x-amz-json-1.1');
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
        throw new KmsFault(
          'MissingAuthenticationTokenException',
          'Request is missing Authentication Token',
          403,
        );
      }
      const operation = target.slice('TrentService.'.length);
      let body: Record<string, unknown>;
      try {
        body = parts.length
          ? (JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>)
          : {};
      } catch {
        throw new KmsFault('SerializationException', 'body is not JSON');
      }
      requests.push({ operation, body });
      const op = ops[operation];
      if (!op) throw new KmsFault('UnknownOperationException', `${operation} is not supported by the fake`);
      const answer = op(body);
      if (MUTATING.has(operation)) persist();
      send(res, 200, answer);
    } catch (err) {
      if (err instanceof KmsFault) send(res, err.status, { __type: err.type, message: err.message });
      else send(res, 500, { __type: 'KMSInternalException', message: 'internal error' });
    }
  };

  const server: Server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, '127.0.0.1', resolveListen);
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    keys,
    aliases,
    requests,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolveClose()));
      }),
  };
}
