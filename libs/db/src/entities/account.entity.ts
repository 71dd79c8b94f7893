import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** A wallet that signed in. Addresses are stored lowercase; the API returns them checksummed. */
@Entity('accounts')
export class AccountEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text', unique: true }) address!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
