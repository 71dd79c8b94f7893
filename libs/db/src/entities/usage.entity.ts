import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Usage counters per server, API key and UTC day. */
@Entity('usage_daily')
export class UsageDailyEntity {
  @PrimaryColumn({ name: 'server_id', type: 'text' }) serverId!: string;
  @PrimaryColumn({ name: 'api_key_id', type: 'text' }) apiKeyId!: string;
  @PrimaryColumn({ type: 'date' }) day!: string;
  @Column({ type: 'int', default: 0 }) operations!: number;
  @Column({ name: 'compute_ms', type: 'bigint', default: 0 }) computeMs!: string;
  @Column({ name: 'input_bytes', type: 'bigint', default: 0 }) inputBytes!: string;
}
