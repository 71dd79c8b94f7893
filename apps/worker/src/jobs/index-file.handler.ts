import { Inject, Injectable } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { FileIndexRepository, FileRepository } from '@hearth/db';
import { MAX_INDEXED_FILE_BYTES } from '@hearth/inference';
import { keyManagerOptionsFromConfig, type KeyManagerOptions } from '@hearth/kms';
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
  private kmsOptions?: Promise<KeyManagerOptions>;

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
    this.kmsOptions ??= keyManagerOptionsFromConfig(this.config);
    const input: IndexFileTaskInput = {
      serverId,
      fileId,
      ciphertextSha256: file.ciphertextSha256,
      sealedName: file.sealedName,
      sealedContentType: file.sealedContentType,
      wrappedMetadataKey: file.wrappedMetadataKey,
      wrappedDataKey: file.wrappedDataKey,
      kmsKeyRef: file.kmsKeyRef,
      serverKmsKeyRef: file.serverKmsKeyRef,
      kms: await this.kmsOptions,
      chunks,
    };
    const started = performance.now();
    const out = await this.isolation.pool.run<IndexFileTaskInput, IndexFileTaskOutput>('index-file', input);
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
}
