import { Injectable } from '@nestjs/common';
import type { ServerEntity } from '@hearth/db';
import type { Readable } from 'node:stream';
import type { SessionAccount } from '../auth/auth.types';
import { AccessLogService, type AccessLogView } from '../access-log/access-log.service';
import { FilesService } from '../files/files.service';
import type { FileView } from '../files/files.dto';
import { GrantsService } from '../grants/grants.service';
import { tarEnd, tarEntry, tarHeader, tarPadding } from './tar';

export const EXPORT_FORMAT = 'hearth-export-v1';
const PAGE = 200;

/** One archive entry per file: its bytes as the owner downloads them. */
function fileEntryName(file: FileView): string {
  return file.encryption === 'client' ? `files/${file.id}.hev` : `files/${file.id}`;
}

/**
 * Everything of a server, for its owner, as one tar stream: `manifest.json` (the server, every file with its
 * name, type, size and entry), `grants.json`, then each file (server-side files decrypted, client-side files as
 * the envelope they were sent as, for the owner key to open), then the access log with its receipts in pages of
 * 200 rows (`access-log/000001.jsonl`, …; written last, so it includes this export's own reads). Each file is
 * read through the same path as a download: streamed, and logged in the access log as a read.
 */
@Injectable()
export class ExportService {
  constructor(
    private readonly files: FilesService,
    private readonly grants: GrantsService,
    private readonly accessLog: AccessLogService,
  ) {}

  /** Metadata first (so an outage answers 503 before any byte of the archive), then the stream. */
  async archive(
    server: ServerEntity,
    account: SessionAccount,
    sessionTokenHash: Buffer,
  ): Promise<AsyncGenerator<Buffer>> {
    const files: FileView[] = [];
    for (let cursor: string | undefined; ;) {
      const page = await this.files.list(server, 'owner', account, { limit: PAGE, cursor });
      files.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    const grants: unknown[] = [];
    for (let cursor: string | undefined; ;) {
      const page = await this.grants.list(server, { limit: PAGE, cursor });
      grants.push(...page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    const now = new Date();
    const manifest = {
      format: EXPORT_FORMAT,
      exportedAt: now.toISOString(),
      server: {
        id: server.id,
        kind: server.kind,
        name: server.name,
        address: server.address,
      },
      files: files.map((f) => ({ ...f, entry: fileEntryName(f) })),
      grants: { entry: 'grants.json', count: grants.length },
      accessLog: { entries: 'access-log/NNNNNN.jsonl', rowsPerEntry: PAGE, newestFirst: true },
      notes:
        'Server-side files are decrypted. Client-side files (.hev) are HEV1 envelopes: version 2 opens with the ' +
        'owner key your wallet derives (libs/crypto/ENVELOPE.md); version 1 only with the server key.',
    };
    return this.stream(server, sessionTokenHash, manifest, grants, files, now);
  }

  private async *stream(
    server: ServerEntity,
    sessionTokenHash: Buffer,
    manifest: object,
    grants: unknown[],
    files: FileView[],
    now: Date,
  ): AsyncGenerator<Buffer> {
    yield* tarEntry('manifest.json', Buffer.from(JSON.stringify(manifest, null, 2)), now);
    yield* tarEntry('grants.json', Buffer.from(JSON.stringify(grants, null, 2)), now);
    for (const file of files) {
      const { body, logged } = await this.files.openForReader(sessionTokenHash, server.id, file.id);
      yield* this.fileEntry(file, body, now);
      // As for a download: no file goes out without its access-log row stored.
      await logged;
    }
    let part = 0;
    for (let cursor: string | undefined; ;) {
      const page = await this.accessLog.list(server.id, { limit: PAGE, cursor }, null);
      if (page.items.length) {
        const lines = page.items.map((row: AccessLogView) => JSON.stringify(row)).join('\n') + '\n';
        yield* tarEntry(`access-log/${String(++part).padStart(6, '0')}.jsonl`, Buffer.from(lines), now);
      }
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    yield tarEnd();
  }

  /** Header, the bytes as they stream, padding; a file whose bytes differ from its recorded size breaks the stream. */
  private async *fileEntry(file: FileView, body: Readable | Buffer, mtime: Date): AsyncGenerator<Buffer> {
    if (Buffer.isBuffer(body)) {
      yield* tarEntry(fileEntryName(file), body, mtime);
      return;
    }
    yield tarHeader(fileEntryName(file), file.size, mtime);
    let written = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      written += chunk.length;
      if (written > file.size) break;
      yield chunk;
    }
    if (written !== file.size) {
      body.destroy();
      throw new Error(`file ${file.id} is ${written} bytes, not the ${file.size} recorded: export cut short`);
    }
    yield tarPadding(file.size);
  }
}
