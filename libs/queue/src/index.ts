/**
 * @hearth/queue: job names and payloads (ids only), and OperationQueue, the one owner of BullMQ and of the
 * Redis keys that go with operations (tenant backlogs, status events).
 */
export {
  ALL_JOB_NAMES,
  assertHandlersCover,
  BACKLOG_TTL_SECONDS,
  JobName,
  type JobPayloads,
  type OperationEvent,
  type OperationEventStatus,
  type PurgeExpiredResultsPayload,
  type RunOperationPayload,
  tenantBacklogKey,
} from './jobs';
export {
  type ConsumeOptions,
  isFinalFailure,
  MAX_STALLED_COUNT,
  OPERATION_JOB_OPTIONS,
  type OperationJob,
  type OperationJobProcessor,
  OperationQueue,
  type OperationQueueOptions,
  OPERATIONS_QUEUE,
  PURGE_EVERY_MS,
} from './operation-queue';
