import { randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { migrate } from '../../src/infrastructure/postgres/migrate.js';

export const silentLogger = pino({ level: 'silent' });

export interface TestDatabase {
  connectionString: string;
  drop(): Promise<void>;
}

function serverUrl(): URL {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is unset: run the tests through the mocha configs');
  return new URL(url);
}

/** A new, migrated database on the test server, so suites never see each other's rows. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `shop_test_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: serverUrl().href });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = serverUrl();
  url.pathname = `/${name}`;
  await migrate(url.href, silentLogger);
  return {
    connectionString: url.href,
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl().href });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}
