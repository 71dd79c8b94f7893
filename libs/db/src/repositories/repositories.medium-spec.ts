/*
 * Every repository's medium cases (each beside its repository, in `*.medium-cases.ts`) in one test process: they
 * share the run's Postgres, and loading TypeORM once instead of once per repository keeps the tier fast. (The pages case, which fills tables with other tenants' rows, runs beside them in a process
 * of its own: pages.medium-spec.ts.)
 */
import './access-log.repository.medium-cases';
import './account.repository.medium-cases';
import './api-key.repository.medium-cases';
import './file.repository.medium-cases';
import './file-index.repository.medium-cases';
import './member.repository.medium-cases';
import './operation.repository.medium-cases';
import './server.repository.medium-cases';
import './session.repository.medium-cases';
import './usage.repository.medium-cases';
import './quota.repository.medium-cases';
import './collective-data.repository.medium-cases';
import './access-request.repository.medium-cases';
import './event.repository.medium-cases';
import './webhook.repository.medium-cases';
import './data-portability.repository.medium-cases';
import '../health.medium-cases';
