/**
 * The job: one canonical record behind every API dialect (v3, v5, OMS). Plain data; the
 * dialects translate their request bodies into it and render it back.
 */
import type { CdcPosition, CheckResult, EngineKind } from '../engines/engine.js';
import type { JobStatus } from './transitions.js';

export type JobType = 'migration' | 'sync' | 'cloudDataGuard';
export type TaskType = 'FULL_TRANS' | 'INCR_TRANS' | 'FULL_INCR_TRANS';
export type NodeType = 'micro' | 'small' | 'medium' | 'high' | 'xlarge';

/** How a job reaches one database. The password is a ciphertext; `connectionId` resolves at use time. */
export interface JobEndpoint {
  dbType: EngineKind;
  /** Set when the endpoint refers to a saved connection: its current host/user/password are used. */
  connectionId?: string;
  host?: string;
  port?: number;
  user?: string;
  passwordCipher?: string;
  dbName?: string;
  ssl?: { enabled: boolean; caCipher?: string; certName?: string; checkSum?: string; verify?: boolean };
  /** Everything else the client sent (endpoint_type, instance ids, vpc, cloud...): stored, echoed, no effect here. */
  extra: Record<string, unknown>;
}

/** The v5 DatabaseObject model (object_scope + object_info tree), stored as sent. */
export interface DbObjectSelection {
  object_scope: 'all' | 'database' | 'table';
  target_root_db?: { db_name?: string; db_encoding?: string };
  object_info?: Record<string, DbSelection>;
}
export interface DbSelection {
  name?: string;
  all?: boolean;
  sync_type?: string;
  schemas?: Record<string, SchemaSelection>;
  tables?: Record<string, TableSelection>;
  total_table_num?: number;
  is_synchronized?: boolean;
}
export interface SchemaSelection {
  name?: string;
  all?: boolean;
  sync_type?: string;
  tables?: Record<string, TableSelection>;
}
export interface TableSelection {
  name?: string;
  type?: string;
  all?: boolean;
  sync_type?: string;
  db_alias_name?: string;
  schema_alias_name?: string;
  filtered?: boolean;
  filter_conditions?: string[];
  config_conditions?: string[];
  is_synchronized?: boolean;
  columns?: Record<string, ColumnSelection>;
}
export interface ColumnSelection {
  name?: string;
  type?: string;
  filtered?: boolean;
  additional?: boolean;
  operation_type?: string;
  value?: string;
  primary_key_for_column_filtering?: string;
  primary_key_for_data_filtering?: string;
  index_for_data_filtering?: string;
  sync_type?: string;
}

export interface SpeedLimit {
  /** `hh:mm` UTC. */
  begin: string;
  end: string;
  /** MB/s. */
  speed: number;
}

export interface PolicyConfig {
  conflict_policy?: 'ignore' | 'overwrite' | 'stop';
  filter_ddl_policy?: string;
  ddl_trans?: boolean;
  index_trans?: boolean;
  /** Defer secondary index creation until after the full load (OMS deferIndexCreation). */
  defer_index_creation?: boolean;
  dml_types?: string;
  [k: string]: unknown;
}

/** The user-migration choice. Passwords only as ciphertexts; hashes are never stored (read from the source at run time). */
export interface UserMigration {
  migrateUsers: boolean;
  /** One new password for every migrated account (is_set_password + password). */
  passwordCipher?: string;
  /** Selected accounts (MySQL `user@host`, PostgreSQL role names), each optionally with its own new password. */
  users: { id: string; passwordCipher?: string }[];
  /** Selected roles (MariaDB roles, PostgreSQL NOLOGIN roles). */
  roles: string[];
  /** PostgreSQL is_sync_object_privilege: stored as given (privileges always go with the migrated roles). */
  syncObjectPrivileges?: boolean;
}

export interface AlarmNotify {
  alarm_to_user?: boolean;
  topic_urn?: string;
  delay_time?: number;
  rpo_delay?: number;
  rto_delay?: number;
  webhook_url?: string;
}

export interface AsyncQuery<T> {
  id: string;
  status: 'pending' | 'success' | 'failed';
  createdAt: number;
  finishedAt?: number;
  result?: T;
  error?: string;
}

export interface NetworkResult {
  role: 'source' | 'target';
  ip: string;
  success: boolean;
  error_code?: string;
  error_msg?: string;
  version?: string;
}

export interface PrecheckRun {
  id: string;
  mode: 'forStartJob' | 'forRetryJob' | 'forResetJob';
  status: 'pending' | 'success' | 'failed';
  createdAt: number;
  finishedAt?: number;
  results: CheckResult[];
  /** Items the user chose to skip (skip_precheck). */
  skipped: string[];
  /** True when every item passed (alarms pass; skipped failures pass). */
  passed?: boolean;
  /** `Job.configVersion` the precheck ran against: a later configuration change invalidates it. */
  configVersion: number;
  error?: string;
}

/** Which phase a run is in; a resume continues the phase recorded here. */
export type RunPhase = 'schema' | 'full' | 'incremental' | 'done';

export interface RunState {
  /** Generation of the current workflow execution; a task of an older run stops at once. */
  runId: string;
  phase: RunPhase;
  startedAt: number;
  /** CDC start position, captured before the first row of the full load is read (rule 1). */
  startPosition?: CdcPosition;
  /** Last position applied to the target and committed. */
  appliedPosition?: CdcPosition;
  schemaCopied?: boolean;
  chunksPlanned?: boolean;
  fullLoadStartedAt?: number;
  fullLoadCompletedAt?: number;
  incrementalStartedAt?: number;
  indexesCreated?: boolean;
  /** Execution id on the workflow engine (Step Functions ARN locally or on AWS). */
  executionId?: string;
  /** Incremental sync health, updated at each checkpoint. */
  cdc?: CdcStats;
}

export interface CdcStats {
  /** Source commit time of the last applied change → now, at the last checkpoint. */
  lagMillis: number;
  /** Source commit time (epoch ms) of the last applied transaction. */
  lastCommitTime?: number;
  eventsPerSecond: number;
  eventsApplied: number;
  transactionsApplied: number;
  updatedAt: number;
}

export interface Job {
  id: string;
  projectId: string;
  name: string;
  description: string;
  status: JobStatus;
  /** Optimistic lock: every write is conditional on the version read. */
  version: number;
  /** Bumped by every configuration change; a precheck is valid only for the version it ran on. */
  configVersion: number;
  createTime: number;
  updateTime: number;

  jobType: JobType;
  engineType: string;
  taskType: TaskType;
  jobDirection: string;
  netType: string;
  nodeType: NodeType;
  multiWrite: boolean;
  isTargetReadonly: boolean;
  chargingMode: string;
  enterpriseProjectId: string;
  expiredDays: string;
  tags: { key: string; value: string }[];
  /** Scheduled start, epoch ms. */
  startTime?: number;
  /** How this job was created (api dialect), for rendering defaults. */
  createdBy: 'v5' | 'v3' | 'oms';
  cloneOf?: string;

  source: JobEndpoint;
  target: JobEndpoint;
  dbObject: DbObjectSelection;
  policy: PolicyConfig;
  speedLimits: SpeedLimit[];
  alarmNotify?: AlarmNotify;
  /** Which source accounts and roles the run migrates (v3 batch-update-user, v5 user_migration); see lib/job/users.ts. */
  userMigration?: UserMigration;
  /** Stored and echoed, no effect in this deployment (node_info, period_order, public_ip_list, ...). */
  echo: Record<string, unknown>;

  network?: AsyncQuery<NetworkResult[]>;
  /** `collect-db-position` queries. */
  positionQuery?: AsyncQuery<{ position: string }>;
  /** INCR_TRANS: where incremental sync starts (PUT start-position); else the position when started. */
  configuredStartPosition?: CdcPosition;
  precheck?: PrecheckRun;
  run?: RunState;
  /** Set when a failure status was entered. */
  error?: { code: string; message: string; at: number };
}
