import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { JsonValue } from '../../eventstore/eventStore.js';
import { ERASED } from '../../domain/personalData.js';
import { FORGOTTEN_CHANNEL, type KeptKeys, NO_KEPT_KEYS } from './dataKeyCache.js';

/** How an encrypted field is stored in an event's data. */
export interface SealedValue {
  $sealed: { owner: string; iv: string; tag: string; data: string };
  [key: string]: JsonValue;
}

export function isSealed(value: unknown): value is SealedValue {
  return typeof value === 'object' && value !== null && '$sealed' in value;
}

/**
 * AES-256-GCM with one data key per customer, kept in `customer_data_keys`, never in events; keys
 * read or created are kept in `kept` (see DataKeyCache), none by default.
 */
export class PersonalDataVault {
  constructor(
    private readonly pool: pg.Pool,
    private readonly kept: KeptKeys = NO_KEPT_KEYS,
  ) {}

  /**
   * Seals each value with the owner's key, read (or created) once for all of them; a forgotten
   * owner's values are recorded as erased.
   */
  async sealAll(owner: string, values: readonly JsonValue[]): Promise<(SealedValue | typeof ERASED)[]> {
    if (values.length === 0) return [];
    const key = await this.keyFor(owner);
    if (key === null) return values.map(() => ERASED);
    return values.map((value) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      // The owner is authenticated with the data: a sealed value moved to another customer fails.
      cipher.setAAD(Buffer.from(owner));
      const data = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return {
        $sealed: {
          owner,
          iv: iv.toString('base64'),
          tag: cipher.getAuthTag().toString('base64'),
          data: data.toString('base64'),
        },
      };
    });
  }

  /** Each value opened, or ERASED once its owner's key is gone; one query reads all the owners' keys. */
  async openAll(sealed: readonly SealedValue[]): Promise<JsonValue[]> {
    if (sealed.length === 0) return [];
    const keys = new Map<string, Buffer | null>();
    const unknown: string[] = [];
    for (const owner of new Set(sealed.map((value) => value.$sealed.owner))) {
      const key = this.kept.get(owner);
      if (key === undefined) unknown.push(owner);
      else keys.set(owner, key);
    }
    if (unknown.length > 0) {
      const epoch = this.kept.epoch();
      const result = await this.pool.query<{ customer_id: string; data_key: Buffer | null }>(
        'SELECT customer_id, data_key FROM customer_data_keys WHERE customer_id = ANY($1)',
        [unknown],
      );
      for (const row of result.rows) {
        keys.set(row.customer_id, row.data_key);
        this.kept.keep(row.customer_id, row.data_key, epoch);
      }
    }
    return sealed.map((value) => {
      const { owner, iv, tag, data } = value.$sealed;
      const key = keys.get(owner);
      if (!key) return ERASED;
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(owner));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      const text = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString(
        'utf8',
      );
      return JSON.parse(text) as JsonValue;
    });
  }

  /**
   * Crypto-shredding: every personal field of this customer, in every event, becomes ERASED, and
   * stays so: the customer keeps a row without a key, and what is sealed for them later is erased.
   */
  async forget(owner: string): Promise<void> {
    await this.pool.query(
      `WITH forgotten AS (
         INSERT INTO customer_data_keys (customer_id, data_key) VALUES ($1, NULL)
         ON CONFLICT (customer_id) DO UPDATE SET data_key = NULL)
       SELECT pg_notify($2, $1)`,
      [owner, FORGOTTEN_CHANNEL],
    );
    this.kept.forgotten(owner);
  }

  /**
   * The customer's data key, created on their first sealed value (one statement, as a rule); null
   * once they are forgotten.
   */
  private async keyFor(owner: string): Promise<Buffer | null> {
    const known = this.kept.get(owner);
    if (known !== undefined) return known;
    const epoch = this.kept.epoch();
    const key = await this.readOrCreateKey(owner);
    this.kept.keep(owner, key, epoch);
    return key;
  }

  private async readOrCreateKey(owner: string): Promise<Buffer | null> {
    const { rows } = await this.pool.query<{ data_key: Buffer | null }>(
      `WITH created AS (
         INSERT INTO customer_data_keys (customer_id, data_key) VALUES ($1, $2)
         ON CONFLICT DO NOTHING RETURNING data_key)
       SELECT data_key FROM created
       UNION ALL SELECT data_key FROM customer_data_keys WHERE customer_id = $1
       LIMIT 1`,
      [owner, randomBytes(32)],
    );
    const [row] = rows;
    if (row) return row.data_key;
    // A first write for the same customer committed while this statement ran: its snapshot did not
    // see the row it conflicted with, a new statement does. Concurrent first writes agree on one key.
    const { rows: committed } = await this.pool.query<{ data_key: Buffer | null }>(
      'SELECT data_key FROM customer_data_keys WHERE customer_id = $1',
      [owner],
    );
    const [agreed] = committed;
    if (!agreed) throw new Error(`no data key could be created for ${owner}`);
    return agreed.data_key;
  }
}
