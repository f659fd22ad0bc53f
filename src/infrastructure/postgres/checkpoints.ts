import type pg from 'pg';
import type { Checkpoints } from '../../commands/checkpoints.js';

export class PostgresCheckpoints implements Checkpoints {
  constructor(private readonly pool: pg.Pool) {}

  async load(subscriber: string): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ position: string }>(
      'SELECT position FROM subscription_checkpoints WHERE subscriber = $1',
      [subscriber],
    );
    return rows[0] === undefined ? undefined : Number(rows[0].position);
  }

  async save(subscriber: string, position: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO subscription_checkpoints (subscriber, position) VALUES ($1, $2)
       ON CONFLICT (subscriber) DO UPDATE SET position = excluded.position, updated_at = now()`,
      [subscriber, position],
    );
  }
}
