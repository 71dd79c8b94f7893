import { Injectable } from '@nestjs/common';
import { AccessLogRepository, type NewDownloadEntry } from '@hearth/db';

/** Rows per INSERT at most; more wait for the next one. */
const MAX_BATCH = 256;
/** INSERTs in flight at once: one commits while the next batch fills. */
const MAX_IN_FLIGHT = 2;

interface Waiting {
  row: NewDownloadEntry;
  stored: () => void;
  failed: (err: unknown) => void;
}

/**
 * Writes the access-log rows of downloads, coalesced: a row waits for no timer. It goes out at once when no INSERT
 * is in flight, and otherwise with every row that arrived meanwhile, in the next INSERT. Each caller's promise
 * settles when its own row is committed, so a response still ends only after its row is stored. A batch that
 * fails is retried row by row, so one bad row (its server deleted meanwhile) cuts only its own response.
 */
@Injectable()
export class DownloadLog {
  private readonly waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(private readonly accessLog: AccessLogRepository) {}

  record(row: NewDownloadEntry): Promise<void> {
    return new Promise((stored, failed) => {
      this.waiting.push({ row, stored, failed });
      if (this.inFlight < MAX_IN_FLIGHT) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.inFlight++;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0, MAX_BATCH);
        try {
          await this.accessLog.appendDownloads(batch.map((w) => w.row));
          for (const w of batch) w.stored();
        } catch {
          await Promise.all(
            batch.map((w) => this.accessLog.appendDownloads([w.row]).then(w.stored, w.failed)),
          );
        }
      }
    } finally {
      this.inFlight--;
    }
  }
}
