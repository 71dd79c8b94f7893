import {
  Global,
  Inject,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HEARTH_CONFIG, type HearthConfig } from '@hearth/config';
import { ErrorCode, ProblemError } from '@hearth/errors';
import { GrantRelayer, PermissionChecker } from '@hearth/permissions';
import type Redis from 'ioredis';
import { REDIS } from '../infra/infra.module';
import { ReadinessRegistry } from '../infra/readiness.registry';
import { RedisSendLock } from './redis-send-lock';

/**
 * The gateway's view of the chain: the relayer (owner-signed grants, paid by the platform) and a checker used
 * to refuse doomed operations before they are queued. The worker's check at execution time is the one that
 * counts; this one only gives apps an early, clear 4xx.
 */
@Injectable()
export class Chain implements OnModuleInit, OnApplicationShutdown {
  private relayerInstance?: GrantRelayer;
  private checkerInstance?: PermissionChecker;

  constructor(
    @Inject(HEARTH_CONFIG) private readonly config: HearthConfig,
    private readonly readiness: ReadinessRegistry,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  onModuleInit(): void {
    const { dataPermissionsAddress, relayerPrivateKey } = this.config;
    if (dataPermissionsAddress && relayerPrivateKey) {
      this.relayerInstance = new GrantRelayer({
        rpcUrl: this.config.CHAIN_RPC_URL,
        chainId: this.config.CHAIN_ID,
        dataPermissionsAddress,
        relayerPrivateKey,
        timeoutMs: this.config.CHAIN_TIMEOUT_MS,
        fromBlock: this.config.dataPermissionsFromBlock,
        // Every replica relays from the same key: their transactions take turns through Redis.
        sendLock: new RedisSendLock(this.redis, { prefix: this.config.QUEUE_PREFIX }),
      });
    }
    if (dataPermissionsAddress) {
      this.checkerInstance = new PermissionChecker({
        rpcUrl: this.config.CHAIN_RPC_URL,
        chainId: this.config.CHAIN_ID,
        dataPermissionsAddress,
        timeoutMs: this.config.CHAIN_TIMEOUT_MS,
        headMaxAgeMs: this.config.CHAIN_PRECHECK_HEAD_MAX_AGE_MS,
      });
    }
    this.readiness.register('chain', async () => {
      if (!this.relayerInstance)
        throw new Error('DATA_PERMISSIONS_ADDRESS or RELAYER_PRIVATE_KEY is not configured');
      const health = await this.relayerInstance.health();
      return {
        chainId: this.config.CHAIN_ID,
        blockNumber: health.blockNumber.toString(10),
        relayer: health.relayerAddress,
        relayerBalanceWei: health.relayerBalanceWei.toString(10),
      };
    });
  }

  get relayer(): GrantRelayer {
    if (!this.relayerInstance) {
      throw new ProblemError(
        503,
        ErrorCode.chain_unavailable,
        'The permission contract is not configured on this deployment',
      );
    }
    return this.relayerInstance;
  }

  get checker(): PermissionChecker {
    if (!this.checkerInstance) {
      throw new ProblemError(
        503,
        ErrorCode.chain_unavailable,
        'The permission contract is not configured on this deployment',
      );
    }
    return this.checkerInstance;
  }

  onApplicationShutdown(): void {
    this.checkerInstance?.close();
  }
}

@Global()
@Module({ providers: [Chain], exports: [Chain] })
export class ChainModule {}
