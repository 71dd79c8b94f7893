export type { DataRecord, ParsedFile, RecordFormat, RecordKind, RecordSource } from './types';
export { RECORD_LIMITS } from './types';
export { detectFormat, parseFile } from './parse';
export { fileIndexesOf } from './load';
