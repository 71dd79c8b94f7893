/**
 * @hearth/queue: job names and payloads (ids only), and OperationQueue, the one owner of BullMQ and of the
 * Redis keys that go with operations (tenant backlogs, status events).
 */
export {
  ALL_JOB_NAMES,
  assertHandlersCover,
  BACKLOG_TTL_SECONDS,
  JobName,
  type IndexFilePayload,
  type JobPayloads,
  MAX_EVENT_RESULT_BYTES,
  type OperationEndState,
  type OperationEvent,
  type OperationEventStatus,
  type PurgeExpiredResultsPayload,
  type ReconcileOperationsPayload,
  type RunOperationPayload,
  tenantBacklogKey,
} from './jobs';
export {
  type ConsumeOptions,
  DEFAULT_RETRY_POLICY,
  isFinalFailure,
  isQueueUnavailable,
  INDEX_JOB_OPTIONS,
  jobOptions,
  type JobLiveness,
  OPERATION_BACKOFF_TYPE,
  OPERATION_JOB_RETENTION,
  QUEUE_CALL_TIMEOUT_MS,
  QueueUnavailableError,
  retryDelayMs,
  type RetryPolicy,
  retryPolicyFromConfig,
  type OperationJob,
  type OperationJobProcessor,
  OperationQueue,
  type OperationQueueOptions,
  OPERATIONS_QUEUE,
  PURGE_EVERY_MS,
} from './operation-queue';
export { RedisScript, releaseLock } from './redis-script';
export {
  type DeliverWebhookPayload,
  deliveryJobId,
  type DispatchEventsPayload,
  WebhookJobName,
  type WebhookJobPayloads,
  WEBHOOKS_QUEUE,
} from './webhook-jobs';
export {
  type WebhookJob,
  WebhookQueue,
  type WebhookQueueOptions,
  type WebhookRetryPolicy,
} from './webhook-queue';
export {
  BlockedAddressError,
  checkWebhookUrl,
  isBlockedAddress,
  guardedLookup,
  type WebhookUrlPolicy,
  type WebhookUrlProblem,
} from './webhook-target';
export { guardedPost, type SendResult } from './webhook-send';
export { signWebhook, verifyWebhookSignature, WEBHOOK_TOLERANCE_SECONDS } from './webhook-signature';
