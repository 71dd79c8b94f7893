import type { BlobStore } from '@hearth/blobs';
import type { EntityManager } from 'typeorm';
import { FileEntity } from '../../entities/file.entity';

/**
 * Inside the caller's transaction: each file's chunks from the blob store, then its row. Shared by the
 * repositories whose transactions remove files (one file; a member's contributions). Not part of the public
 * surface: services never hold a transaction.
 */
export async function deleteFilesIn(
  tx: EntityManager,
  blobs: BlobStore,
  serverId: string,
  fileIds: readonly string[],
): Promise<number> {
  let deleted = 0;
  for (const fileId of fileIds) {
    await blobs.deleteFile(serverId, fileId, tx);
    const result = await tx.getRepository(FileEntity).delete({ id: fileId, serverId });
    deleted += result.affected ?? 0;
  }
  return deleted;
}
