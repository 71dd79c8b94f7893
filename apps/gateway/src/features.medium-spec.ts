/*
 * Every gateway feature's medium cases (each in its feature's folder, in `<feature>.medium-cases.ts`) in one test
 * process: each builds its own testing module on the run's Postgres and Redis, and loading Nest, TypeORM and the
 * feature modules once instead of once per feature keeps the tier fast.
 */
import './access-log/access-log.medium-cases';
import './access-requests/access-requests.medium-cases';
import './api-keys/api-keys.medium-cases';
import './auth/api-key-cache.medium-cases';
import './auth/auth.medium-cases';
import './auth/rate-limiter.medium-cases';
import './collectives/collectives.medium-cases';
import './data-portability/data-portability.medium-cases';
import './files/files.medium-cases';
import './grants/grants.medium-cases';
import './health/health.medium-cases';
import './operations/operations.medium-cases';
import './servers/servers.medium-cases';
