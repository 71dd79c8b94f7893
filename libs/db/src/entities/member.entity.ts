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
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
