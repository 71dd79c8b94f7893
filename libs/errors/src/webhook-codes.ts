/**
 * Why a webhook delivery attempt failed without an HTTP status (the delivery log's `errorCode`). A response
 * outside 2xx is logged with its `statusCode` and the code `http_status`.
 */
export const WebhookDeliveryCode = {
  http_status: 'http_status',
  timeout: 'timeout',
  connection_failed: 'connection_failed',
  dns_failed: 'dns_failed',
  address_not_allowed: 'address_not_allowed',
  secret_unavailable: 'secret_unavailable',
} as const;

export type WebhookDeliveryCode = (typeof WebhookDeliveryCode)[keyof typeof WebhookDeliveryCode];

export const WEBHOOK_DELIVERY_CODE_DOCS: Readonly<Record<WebhookDeliveryCode, string>> = {
  http_status:
    'The receiver answered outside 2xx (a redirect included: redirects are never followed); see statusCode.',
  timeout: 'No response within WEBHOOK_TIMEOUT_MS.',
  connection_failed: 'The connection was refused, reset or its TLS handshake failed.',
  dns_failed: 'The host did not resolve.',
  address_not_allowed:
    'The host resolved to a private, loopback, link-local or unique-local address at delivery time (DNS rebinding).',
  secret_unavailable: 'The signing secret could not be unsealed (the key manager was unreachable).',
};
