import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * A server's metadata key, wrapped by its tenant key (context {tenantId, serverId, purpose: "metadata"}): it seals
 * the server's file names, content types and operation parameters, so the database alone reads none of them.
 */
@Entity('server_metadata_keys')
export class MetadataKeyEntity {
  @PrimaryColumn({ name: 'server_id', type: 'text' }) serverId!: string;
  @Column({ name: 'wrapped_key', type: 'bytea' }) wrappedKey!: Buffer;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
