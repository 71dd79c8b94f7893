import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Transactions the relayer sent (or tried to send) for one account on one UTC day: the relayed-transaction quota. */
@Entity('relay_usage_daily')
export class RelayUsageDailyEntity {
  @PrimaryColumn({ name: 'account_id', type: 'text' }) accountId!: string;
  @PrimaryColumn({ type: 'date' }) day!: string;
  @Column({ type: 'int', default: 0 }) transactions!: number;
}
