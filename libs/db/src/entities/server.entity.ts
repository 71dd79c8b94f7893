import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

export type ServerKind = 'personal' | 'collective';
export type PolicyKind = 'grants' | 'contract' | 'whitelist';

/** A personal or collective server: the tenant. Its identity private key is stored only wrapped. */
@Entity('servers')
export class ServerEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) kind!: ServerKind;
  @Column({ type: 'text' }) name!: string;
  @Index() @Column({ name: 'owner_account_id', type: 'text' }) ownerAccountId!: string;
  /** Lowercase address of the owner's wallet (the grantor of its grants). */
  @Column({ name: 'owner_address', type: 'text' }) ownerAddress!: string;
  /** Key-manager reference of the tenant key (not secret). */
  @Column({ name: 'kms_key_ref', type: 'text' }) kmsKeyRef!: string;
  @Column({ type: 'text' }) address!: string;
  @Column({ name: 'public_key', type: 'text' }) publicKey!: string;
  @Column({ name: 'wrapped_identity_key', type: 'bytea' }) wrappedIdentityKey!: Buffer;
  @Column({ name: 'policy_kind', type: 'text', default: 'grants' }) policyKind!: PolicyKind;
  @Column({ name: 'policy_address', type: 'text', nullable: true }) policyAddress!: string | null;
  @Column({ name: 'k_threshold', type: 'int', default: 5 }) kThreshold!: number;
  /** Collectives with differential privacy: ε spent by each aggregate (decimal string); null = off. */
  @Column({ name: 'privacy_epsilon', type: 'numeric', nullable: true }) privacyEpsilon!: string | null;
  /** …and the total ε each app may spend on this collective (decimal string). */
  @Column({ name: 'privacy_budget', type: 'numeric', nullable: true }) privacyBudget!: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
