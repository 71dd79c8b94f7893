import type { Provider } from '@nestjs/common';
import { type BlobStore, PostgresBlobStore } from '@hearth/blobs';
import { DataSource } from 'typeorm';

/** Injection token of the blob store that holds files' sealed chunks (`@Inject(BLOB_STORE) blobs: BlobStore`). */
export const BLOB_STORE = Symbol('BLOB_STORE');

/** The default blob store (chunks as rows in Postgres), on the app's DataSource. */
export const blobStoreProvider: Provider = {
  provide: BLOB_STORE,
  inject: [DataSource],
  useFactory: (dataSource: DataSource): BlobStore => new PostgresBlobStore(dataSource),
};
