// The infrastructure layer's public surface: where PostgreSQL and Redis come from (env → local → embedded /
// spawned), per-scenario databases and Redis namespaces, and the doctor report.

export type {
  DoctorItem,
  DoctorReport,
  DoctorStatus,
  Infra,
  PostgresSource,
  RedisNamespace,
  RedisSource,
  ScenarioDatabase,
} from './types.ts';
export { acquireInfra, type AcquireInfraOptions } from './acquire-infra.ts';
export { createScenarioDatabase } from './scenario-database.ts';
export { createRedisNamespace, type NamespaceOptions } from './redis-namespace.ts';
export { diagnose, formatDoctorReport, type DiagnoseOptions } from './doctor.ts';
export { startReplicaPair, type PairServer, type ReplicaPair, type ReplicaPairOptions } from './replica-pair.ts';
