import { Inject, Injectable, Logger } from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { type Page, type ServerEntity, toPage, WebhookRepository } from '@hearth/db';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { isId, newId } from '@hearth/ids';
import { checkWebhookUrl, type WebhookUrlPolicy } from '@hearth/queue';
import { randomBytes } from 'node:crypto';
import { MetadataSealer } from '../keys/metadata-sealer';
import {
  type CreateWebhookBody,
  type DeliveryView,
  toDeliveryView,
  toWebhookView,
  type WebhookView,
} from './events.dto';

/** Owner-side webhooks. Callers have already checked the server is the owner's. */
@Injectable()
export class WebhooksService {
  private readonly logger = new Logger(WebhooksService.name);
  private readonly policy: WebhookUrlPolicy;
  private readonly queuePrefix: string;

  constructor(
    @Inject(HEARTH_CONFIG) config: HearthConfig,
    private readonly webhooks: WebhookRepository,
    private readonly sealer: MetadataSealer,
  ) {
    this.policy = {
      allowHttp: config.NODE_ENV !== 'production',
      allowLoopback: config.WEBHOOK_ALLOW_LOOPBACK,
    };
    this.queuePrefix = config.QUEUE_PREFIX;
  }

  /**
   * The URL is checked (scheme, and every address its host resolves to) before anything is written; the secret
   * is sealed under the server's metadata key and shown this once.
   */
  async create(server: ServerEntity, body: CreateWebhookBody): Promise<WebhookView & { secret: string }> {
    const problem = await checkWebhookUrl(body.url, this.policy);
    if (problem) {
      throw new ProblemError(400, ErrorCode.webhook_url_not_allowed, `url: ${problem.message}`, [
        { field: 'url', code: problem.code, message: problem.message },
      ]);
    }
    const id = newId('whk');
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const seal = await this.sealer.forServer(server);
    const created = await this.webhooks.create(server.id, {
      id,
      url: body.url,
      events: body.events ? [...new Set(body.events)] : null,
      sealedSecret: seal.seal('webhook.secret', id, secret),
      queuePrefix: this.queuePrefix,
    });
    if (!created) throw ProblemError.notFound('server');
    this.logger.log({ tenantId: server.id, webhookId: id }, 'webhook created');
    return { ...toWebhookView(created), secret };
  }

  async list(serverId: string, page: { limit: number; cursor?: string }): Promise<Page<WebhookView>> {
    return toPage(await this.webhooks.list(serverId, page), page.limit, toWebhookView);
  }

  async remove(serverId: string, webhookId: string): Promise<void> {
    if (!isId('whk', webhookId) || !(await this.webhooks.delete(serverId, webhookId)))
      throw ProblemError.notFound('webhook');
  }

  async deliveries(
    serverId: string,
    webhookId: string,
    page: { limit: number; cursor?: string },
  ): Promise<Page<DeliveryView>> {
    if (!isId('whk', webhookId) || !(await this.webhooks.find(serverId, webhookId)))
      throw ProblemError.notFound('webhook');
    return toPage(await this.webhooks.listDeliveries(serverId, webhookId, page), page.limit, toDeliveryView);
  }
}
