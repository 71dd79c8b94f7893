import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { FileIndexRepository, FileRepository } from '@hearth/db';
import { MAX_INDEXED_FILE_BYTES } from '@hearth/inference';
import { metadataKeyContext } from '@hearth/blobs';
import { fileKeyContext, keyManagerFromConfig, type KeyManager } from '@hearth/kms';
import { type IndexFilePayload, JobName } from '@hearth/queue';
import type { Job } from 'bullmq';
import { PinoLogger } from 'nestjs-pino';
import { IsolationPool } from '../pipeline/isolation-pool';
import type { IndexFileTaskInput, IndexFileTaskOutput } from '../pipeline/index-file.task';
import type { JobHandler } from './job-handler';

/**
 * Builds a file version's records and search index once, in an isolated child, and stores it sealed. Files the
 * job cannot index (client envelopes, which only the identity key opens; files over the size cap) are left to
 * operations, which parse them on the fly.
 */
@Injectable()
export class IndexFileHandler implements JobHandler<JobName.IndexFile> {
  readonly name = JobName.IndexFile;
  private keys?: Promise<KeyManager>;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly files: FileRepository,
    private readonly indexes: FileIndexRepository,
    private readonly isolation: IsolationPool,
    private readonly logger: PinoLogger,
  ) {}

  async handle(job: Job<IndexFilePayload>): Promise<unknown> {
    const { serverId, fileId } = job.data;
    const file = await this.indexes.loadForIndexing(serverId, fileId);
    if (!file) return { skipped: 'gone' };
    if (file.indexed) return { skipped: 'indexed' };
    if (file.encryption !== 'server' || !file.wrappedDataKey || !file.wrappedMetadataKey)
      return { skipped: 'not_indexable' };
    if (file.size > MAX_INDEXED_FILE_BYTES) {
      await this.indexes.save(serverId, fileId, {
        ciphertextSha256: file.ciphertextSha256,
        formatVersion: 0,
        sealedIndex: null,
        records: 0,
        errorCode: 'input_too_large',
      });
      return { skipped: 'too_large' };
    }
    const chunks: Buffer[] = [];
    for await (const chunk of this.files.readChunks(serverId, fileId)) chunks.push(chunk);
    // The worker unwraps this file's keys; the sandbox gets them and nothing that unwraps more.
    const kms = await this.keyManager();
    const metadataKey = await kms.unwrapDataKey(
      file.serverKmsKeyRef,
      file.wrappedMetadataKey,
      metadataKeyContext(serverId),
    );
    let dataKey: Buffer;
    try {
      dataKey = await kms.unwrapDataKey(
        file.kmsKeyRef,
        file.wrappedDataKey,
        fileKeyContext(serverId, fileId),
      );
    } catch (err) {
      metadataKey.fill(0);
      throw err;
    }
    const input: IndexFileTaskInput = {
      serverId,
      fileId,
      ciphertextSha256: file.ciphertextSha256,
      sealedName: file.sealedName,
      sealedContentType: file.sealedContentType,
      metadataKey,
      dataKey,
      chunks,
    };
    const started = performance.now();
    let out: IndexFileTaskOutput;
    try {
      out = await this.isolation.pool.run<IndexFileTaskInput, IndexFileTaskOutput>('index-file', input);
    } finally {
      metadataKey.fill(0);
      dataKey.fill(0);
    }
    const ms = Math.round(performance.now() - started);
    const saved = await this.indexes.save(serverId, fileId, {
      ciphertextSha256: file.ciphertextSha256,
      formatVersion: out.formatVersion,
      sealedIndex: out.outcome === 'indexed' ? out.sealedIndex : null,
      records: out.outcome === 'indexed' ? out.records : 0,
      errorCode: out.outcome === 'failed' ? out.code : null,
    });
    const log = this.logger.logger.child({ jobId: job.id, tenantId: serverId, fileId });
    if (out.outcome === 'indexed')
      log.info({ records: out.records, warnings: out.warnings, ms, saved }, 'file indexed');
    else log.warn({ code: out.code, ms, saved }, 'file not indexed; operations will parse it');
    return { outcome: out.outcome, saved };
  }

  private keyManager(): Promise<KeyManager> {
    this.keys ??= keyManagerFromConfig(this.config);
    this.keys.catch(() => {
      this.keys = undefined;
    });
    return this.keys;
  }
}
