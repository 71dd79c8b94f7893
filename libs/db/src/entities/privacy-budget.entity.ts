import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How much of a collective's differential-privacy budget (ε) one app has spent. */
@Entity('privacy_budgets')
export class PrivacyBudgetEntity {
  @PrimaryColumn({ name: 'server_id', type: 'text' }) serverId!: string;
  /** Lowercase address of the app (the API key's appAddress). */
  @PrimaryColumn({ name: 'app_address', type: 'text' }) appAddress!: string;
  /** Decimal string (numeric): ε spent so far. */
  @Column({ type: 'numeric' }) spent!: string;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
