/**
 * A small file's sealed chunks, read with the row that names the file: their bytes as one `bytea` and their
 * lengths as an `int[]`. (A `bytea[]` arrives as text that node-postgres parses character by character, about 20×
 * the cost per byte of one `bytea`.) `file` is the files table's alias, `limit` the SQL of the largest chunk
 * count read inline; the columns are `<as>_data` and `<as>_lengths`, null for a larger file.
 */
export function inlineChunksSql(file: string, limit: string, as: string): string {
  const chunksOf = `FROM file_chunks c WHERE c.server_id = ${file}.server_id AND c.file_id = ${file}.id`;
  return `CASE WHEN ${file}.chunk_count <= ${limit} THEN (SELECT string_agg(c.data, ''::bytea ORDER BY c.seq) ${chunksOf}) END AS ${as}_data,
          CASE WHEN ${file}.chunk_count <= ${limit} THEN ARRAY(SELECT length(c.data) ${chunksOf} ORDER BY c.seq) END AS ${as}_lengths`;
}

/** The chunks back from `inlineChunksSql`'s two columns; null when the file was too large to be read inline. */
export function splitInlineChunks(data: Buffer | null, lengths: number[] | null): Buffer[] | null {
  if (lengths === null) return null;
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const length of lengths) {
    chunks.push(data!.subarray(offset, offset + length));
    offset += length;
  }
  return chunks;
}
