import { Inject, Injectable, Logger } from '@nestjs/common';
import { fileChunkAad } from '@hearth/blobs';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import {
  createDecryptStream,
  createEncryptStream,
  decryptChunks,
  createEnvelopeValidator,
  ENVELOPE_CONTENT_TYPE,
  type EncryptedChunk,
  isCryptoError,
} from '@hearth/crypto';
import {
  type FileEntity,
  type FileForReader,
  FileRepository,
  MemberRepository,
  type Page,
  type PaginationQuery,
  type ServerEntity,
  type ServerRole,
} from '@hearth/db';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { isId, newId } from '@hearth/ids';
import { fileKeyContext, type KeyManager } from '@hearth/kms';
import { OperationQueue } from '@hearth/queue';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { getAddress } from 'viem';
import type { SessionAccount } from '../auth/auth.types';
import { RateLimiter } from '../auth/rate-limiter';
import { invalidSession } from '../auth/session.guard';
import { clientCiphertextProblem } from '../common/library-errors';
import { contentDecoder, isDecodeError } from '../http/json-body';
import { KEY_MANAGER } from '../keys/keys.module';
import { MetadataSealer, type ServerSeal } from '../keys/metadata-sealer';
import { QuotasService } from '../quotas/quotas.service';
import { type FileMeta, fileView, type FileView } from './files.dto';
import { UploadMemoryGovernor } from './upload-memory';
import { DownloadLog } from './download-log';

/** Client envelopes are stored as is, split in pieces of this size (rows stay small, reads stream). */
const ENVELOPE_PIECE = 256 * 1024;

class TooLarge extends Error {}

/** Counts bytes and stops the stream past the limit (Content-Length can lie or be absent). */
function byteLimit(max: number, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      counter.bytes += chunk.length;
      if (counter.bytes > max) cb(new TooLarge());
      else cb(null, chunk);
    },
  });
}

/** Re-cuts a byte stream into fixed-size pieces (the last may be shorter). */
function pieces(size: number): Transform {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      pending.push(chunk);
      pendingBytes += chunk.length;
      while (pendingBytes >= size) {
        const all = Buffer.concat(pending);
        this.push(all.subarray(0, size));
        pending = [all.subarray(size)];
        pendingBytes = all.length - size;
      }
      cb();
    },
    flush(cb: TransformCallback) {
      if (pendingBytes > 0) this.push(Buffer.concat(pending));
      cb();
    },
  });
}

/**
 * Who may read, name or delete a file: a personal server's owner; on a collective only the member who
 * contributed it (its creator and admins get a 404, as for another tenant's file: aggregates, never one
 * member's data).
 */
function mayRead(kind: ServerEntity['kind'], role: ServerRole, file: FileEntity, reader: string): boolean {
  if (kind === 'collective') return file.contributorAddress === reader.toLowerCase();
  return role === 'owner';
}

@Injectable()
export class FilesService {
  private readonly uploadMemory = new UploadMemoryGovernor();
  private readonly logger = new Logger('FilesService');

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly files: FileRepository,
    private readonly members: MemberRepository,
    private readonly downloads: DownloadLog,
    @Inject(KEY_MANAGER) private readonly keys: KeyManager,
    private readonly sealer: MetadataSealer,
    private readonly quotas: QuotasService,
    private readonly limiter: RateLimiter,
    private readonly queue: OperationQueue,
  ) {}

  /** The file's name and Content-Type, opened with the server's metadata key. */
  static meta(seal: ServerSeal, file: FileEntity): FileMeta {
    return {
      name: seal.open('file.name', file.id, file.sealedName),
      contentType: seal.open('file.contentType', file.id, file.sealedContentType),
    };
  }

  /** One file's view for its owner (or contributing member). */
  async view(server: ServerEntity, file: FileEntity): Promise<FileView> {
    const seal = await this.sealer.forServer(server);
    return fileView(file, getAddress(file.contributorAddress), FilesService.meta(seal, file));
  }

  /**
   * Streams an upload into the blob store inside one transaction: plaintext is sealed chunk by chunk on arrival
   * (never buffered whole), a client envelope is checked (recipient, framing) and stored as is. On any error
   * the transaction rolls back: nothing is stored.
   */
  async upload(
    server: ServerEntity,
    account: SessionAccount,
    name: string,
    req: IncomingMessage,
  ): Promise<FileView> {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!contentType) {
      throw new ProblemError(415, ErrorCode.unsupported_media_type, 'Send the file with its Content-Type', [
        { field: 'Content-Type', code: 'required', message: 'the file type is recorded with it' },
      ]);
    }
    if (contentType.startsWith('multipart/')) {
      throw new ProblemError(
        415,
        ErrorCode.unsupported_media_type,
        'Send the file bytes as the body, not a multipart form',
        [{ field: 'Content-Type', code: 'unsupported', message: 'multipart bodies are not accepted' }],
      );
    }
    // A compressed body is stored as what it decodes to; the limit counts decoded bytes (a small gzip bomb
    // stops at the limit), so the declared length only refuses early what is sent as is.
    const decoder = contentDecoder(req);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (!decoder && Number.isFinite(declared) && declared > this.config.MAX_UPLOAD_BYTES)
      throw this.tooLarge();
    // The decoder joins the pipeline only once it runs: piped earlier, it would meet the bytes (and fail on
    // them) with no one listening.
    const source: Array<Readable | Transform> = decoder ? [req, decoder] : [req];

    const encryption = contentType === ENVELOPE_CONTENT_TYPE ? 'client' : 'server';
    const fileId = newId('fil');
    const counter = { bytes: 0 };
    const hash = createHash('sha256');
    let dataKey: { plaintext: Buffer; wrapped: Buffer } | undefined;
    let file: FileEntity;
    try {
      // Collectives: a member's contributions are wrapped under the member's own key, so removing the
      // member crypto-shreds exactly their data; the key that wrapped the file is recorded with it.
      const memberKeyRef =
        server.kind === 'collective'
          ? ((await this.members.findByAddress(server.id, account.address))?.kmsKeyRef ?? null)
          : null;
      // A collective's client envelope is sealed once more, under a data key wrapped by the member's key: the
      // envelope opens with the collective's identity key, which outlives the member, so without this layer a
      // backup of the rows would outlive the member's removal.
      if (encryption === 'server' || memberKeyRef) {
        dataKey = await this.keys.generateDataKey(
          memberKeyRef ?? server.kmsKeyRef,
          fileKeyContext(server.id, fileId),
        );
      }
      const key = dataKey;
      const seal = await this.sealer.forServer(server);
      // One transaction: on any error nothing is stored.
      file = await this.files.upload(
        server.id,
        {
          id: fileId,
          sealedName: seal.seal('file.name', fileId, name),
          sealedContentType: seal.seal('file.contentType', fileId, contentType),
          encryption,
          wrappedDataKey: key?.wrapped ?? null,
          kmsKeyRef: key ? memberKeyRef : null,
          contributorAddress: account.address.toLowerCase(),
        },
        async (chunks) => {
          const store = (sealed: Buffer, cb: (err?: Error | null) => void) => {
            hash.update(sealed);
            chunks.put(sealed).then(() => {
              this.uploadMemory.wrote(sealed.length);
              cb();
            }, cb);
          };
          const sink = new Writable({
            objectMode: true,
            highWaterMark: 1, // one chunk queued behind the INSERT in flight: buffers die young
            write: (piece: EncryptedChunk | Buffer, _enc, cb) =>
              store(Buffer.isBuffer(piece) ? piece : piece.sealed, cb),
          });
          if (key && encryption === 'server') {
            await pipeline([
              ...source,
              byteLimit(this.config.MAX_UPLOAD_BYTES, counter),
              createEncryptStream(key.plaintext, fileChunkAad(server.id, fileId)),
              sink,
            ]);
          } else if (encryption === 'client' && key) {
            await pipeline([
              ...source,
              byteLimit(this.config.MAX_UPLOAD_BYTES, counter),
              createEnvelopeValidator(server.address),
              createEncryptStream(key.plaintext, fileChunkAad(server.id, fileId)),
              sink,
            ]);
          } else {
            await pipeline([
              ...source,
              byteLimit(this.config.MAX_UPLOAD_BYTES, counter),
              createEnvelopeValidator(server.address),
              pieces(ENVELOPE_PIECE),
              sink,
            ]);
          }
          return { size: counter.bytes, ciphertextSha256: hash.digest('hex') };
        },
        this.quotas.storageBytesPerServer,
      );
    } catch (err) {
      req.resume(); // drain what the client still sends so it can read our answer
      throw this.uploadError(err);
    } finally {
      dataKey?.plaintext.fill(0);
    }
    // Not awaited: an upload answers as soon as it is stored, whatever the queue does. A collective runs
    // aggregates only, which read no records, so its files are not indexed.
    if (encryption === 'server' && server.kind === 'personal') void this.enqueueIndex(server.id, file.id);
    return fileView(file, account.address, { name, contentType });
  }

  /**
   * Asks the worker to build the file's records and search index (ids only). The upload has committed whatever
   * happens here: with the queue down the file is still usable, operations then parse it on the fly.
   */
  private async enqueueIndex(serverId: string, fileId: string): Promise<void> {
    try {
      await this.queue.enqueueIndex(serverId, fileId);
    } catch (err) {
      this.logger.warn({
        msg: 'could not queue the file for indexing; operations will parse it',
        tenantId: serverId,
        fileId,
        err: err instanceof Error ? err.name : 'unknown',
      });
    }
  }

  private tooLarge(): ProblemError {
    return new ProblemError(
      413,
      ErrorCode.payload_too_large,
      `Files are limited to ${this.config.MAX_UPLOAD_BYTES} bytes`,
      [{ field: 'body', code: 'too_large', message: `at most ${this.config.MAX_UPLOAD_BYTES} bytes` }],
    );
  }

  private uploadError(err: unknown): unknown {
    if (err instanceof TooLarge) return this.tooLarge();
    if (isCryptoError(err)) return clientCiphertextProblem(err);
    if (isDecodeError(err)) {
      return new ProblemError(400, ErrorCode.validation_failed, 'The body does not decode', [
        { field: 'body', code: 'invalid_encoding', message: 'not valid data of its Content-Encoding' },
      ]);
    }
    if (
      (err as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE' ||
      (err as { code?: string }).code === 'ECONNRESET'
    ) {
      return new ProblemError(400, ErrorCode.validation_failed, 'The upload was interrupted', [
        { field: 'body', code: 'truncated', message: 'the connection closed before the body ended' },
      ]);
    }
    return err;
  }

  /**
   * Owners see every file of a personal server; on a collective everyone, admins and its creator included, sees
   * only their own contributions (admins get per-member counts and sizes from the member list, never names).
   */
  async list(
    server: ServerEntity,
    role: ServerRole,
    account: SessionAccount,
    page: PaginationQuery,
  ): Promise<Page<FileView>> {
    const rows = await this.files.listReady(server.id, {
      limit: page.limit,
      cursor: page.cursor,
      contributorAddress: server.kind === 'personal' && role === 'owner' ? null : account.address,
    });
    const hasMore = rows.length > page.limit;
    const kept = rows.slice(0, page.limit);
    // One key for the whole page (cached across requests): no unwrap per row.
    const seal = await this.sealer.forServer(server);
    return {
      items: kept.map((f) => fileView(f, getAddress(f.contributorAddress), FilesService.meta(seal, f))),
      nextCursor: hasMore ? kept[kept.length - 1].id : null,
    };
  }

  async findReadable(
    server: ServerEntity,
    role: ServerRole,
    account: SessionAccount,
    fileId: string,
  ): Promise<FileEntity> {
    const file = isId('fil', fileId) ? await this.files.findReady(server.id, fileId) : null;
    if (!file || !mayRead(server.kind, role, file, account.address)) throw ProblemError.notFound('file');
    return file;
  }

  /**
   * A download by the owner (or a collective member, of their own contribution) in as few round trips as the
   * guarantees allow: one statement answers the session, the reader's role and the file (with its chunks when it
   * is small). The access-log row is written while the bytes go out, and the body ends only once the row is
   * stored: no read is ever served whole without its log row (if the row cannot be written, the response is cut).
   */
  async openForReader(
    sessionTokenHash: Buffer,
    serverId: string,
    fileId: string,
  ): Promise<{ file: FileEntity; meta: FileMeta; body: Readable | Buffer; logged: Promise<void> }> {
    const found = await this.findForReader(sessionTokenHash, serverId, fileId);
    const { file, session } = found;
    // file.kmsKeyRef: a collective member's key; null means the tenant key.
    const kmsKeyRef = file.kmsKeyRef ?? found.serverKmsKeyRef;
    const meta = FilesService.meta(
      await this.sealer.forServer({ id: serverId, kmsKeyRef: found.serverKmsKeyRef }),
      file,
    );
    if (found.chunks) {
      // A small file is opened in memory: no stream to set up, and the caller ends the body once logged.
      // A client envelope comes back as stored; a collective's is first unsealed from its member-key layer.
      const body = !file.wrappedDataKey
        ? Buffer.concat(found.chunks)
        : await this.decryptedInMemory(serverId, file, kmsKeyRef, found.chunks);
      return { file, meta, body, logged: this.logRead(serverId, file, session.address) };
    }
    const sealed = Readable.from(this.files.readChunks(serverId, file.id));
    const body = !file.wrappedDataKey ? sealed : await this.decrypted(serverId, file, kmsKeyRef, sealed);
    const logged = this.logRead(serverId, file, session.address);
    logged.catch(() => undefined); // awaited at the end of the body; a failure there cuts the response
    const endsOnceLogged = new Transform({
      transform: (chunk: Buffer, _enc, cb) => cb(null, chunk),
      flush: (cb) => void logged.then(() => cb(), cb),
    });
    body.on('error', (err) => endsOnceLogged.destroy(err));
    return { file, meta, body: body.pipe(endsOnceLogged), logged };
  }

  /**
   * What a HEAD of the content answers: the file's metadata, with the same access rule as a download. Nothing is
   * unwrapped or decrypted and nothing is logged, since nothing is read.
   */
  async describeForReader(
    sessionTokenHash: Buffer,
    serverId: string,
    fileId: string,
  ): Promise<{ file: FileEntity; meta: FileMeta }> {
    const { file, serverKmsKeyRef } = await this.findForReader(sessionTokenHash, serverId, fileId);
    const seal = await this.sealer.forServer({ id: serverId, kmsKeyRef: serverKmsKeyRef });
    return { file, meta: FilesService.meta(seal, file) };
  }

  private async findForReader(
    sessionTokenHash: Buffer,
    serverId: string,
    fileId: string,
  ): Promise<Extract<FileForReader, { found: 'server' }> & { file: FileEntity }> {
    const found = await this.files.findForReader(serverId, fileId, sessionTokenHash);
    if (found.found === 'no-session') throw invalidSession();
    // This route authenticates in its own statement, not through SessionGuard: the same per-account limit.
    await this.limiter.enforce(
      `account:${found.session.accountId}`,
      this.config.SESSION_RATE_PER_MINUTE,
      'per signed-in account',
    );
    if (found.found === 'no-server') throw ProblemError.notFound('server');
    const { file, role, session } = found;
    if (!file || !mayRead(found.serverKind, role, file, session.address)) throw ProblemError.notFound('file');
    return { ...found, file };
  }

  private async decryptedInMemory(
    serverId: string,
    file: FileEntity,
    kmsKeyRef: string,
    sealed: Buffer[],
  ): Promise<Buffer> {
    const key = await this.keys.unwrapDataKey(
      kmsKeyRef,
      file.wrappedDataKey!,
      fileKeyContext(serverId, file.id),
    );
    try {
      const last = sealed.length - 1;
      return decryptChunks(
        key,
        fileChunkAad(serverId, file.id),
        sealed.map((chunk, index) => ({ index, isFinal: index === last, sealed: chunk })),
      );
    } finally {
      key.fill(0);
    }
  }

  /** Server-encrypted chunks, opened on the way out. */
  private async decrypted(
    serverId: string,
    file: FileEntity,
    kmsKeyRef: string,
    sealed: Readable,
  ): Promise<Readable> {
    const key = await this.keys.unwrapDataKey(
      kmsKeyRef,
      file.wrappedDataKey!,
      fileKeyContext(serverId, file.id),
    );
    let index = 0;
    const last = file.chunkCount - 1;
    const framing = new Transform({
      writableObjectMode: true,
      readableObjectMode: true,
      transform(chunk: Buffer, _enc, cb) {
        const framed: EncryptedChunk = { index, isFinal: index === last, sealed: chunk };
        index++;
        cb(null, framed);
      },
    });
    const decrypt = createDecryptStream(key, fileChunkAad(serverId, file.id));
    key.fill(0);
    sealed.pipe(framing).pipe(decrypt);
    sealed.on('error', (e) => decrypt.destroy(e));
    return decrypt;
  }

  private logRead(serverId: string, file: FileEntity, actor: string): Promise<void> {
    return this.downloads.record({ serverId, fileId: file.id, actor });
  }

  async remove(
    server: ServerEntity,
    role: ServerRole,
    account: SessionAccount,
    fileId: string,
  ): Promise<void> {
    const file = await this.findReadable(server, role, account, fileId);
    await this.files.delete(server.id, file.id);
  }
}
