import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type MemberRole = 'admin' | 'member';

/** Membership of a wallet in a collective server. */
@Entity('server_members')
@Index(['serverId', 'address'], { unique: true })
export class MemberEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ type: 'text' }) address!: string;
  @Column({ type: 'text' }) role!: MemberRole;
  /** Key-manager reference of the member's own key (collectives): their contributions are wrapped under it. */
  @Column({ name: 'kms_key_ref', type: 'text', nullable: true }) kmsKeyRef!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
