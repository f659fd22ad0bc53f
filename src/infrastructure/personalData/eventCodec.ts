import type { DomainEvent } from '../../domain/shared/decider.js';
import { PERSONAL_DATA } from '../../domain/personalData.js';
import type {
  EventStore,
  JsonObject,
  JsonValue,
  ReadAllOptions,
  RecordedEvent,
} from '../../eventstore/eventStore.js';
import type { PersonalDataCodec } from '../../commands/eventStreams.js';
import { isSealed, type PersonalDataVault } from './personalDataVault.js';

/**
 * The one way events go in and out: personal fields are sealed on the way in and opened on the way
 * out, so no reader can forget to decrypt, and none sees data of a forgotten customer.
 */
export class EventCodec implements PersonalDataCodec {
  constructor(
    private readonly store: EventStore,
    private readonly vault: PersonalDataVault,
  ) {}

  async encode(event: DomainEvent): Promise<JsonObject> {
    const data = event.data as JsonObject;
    const personal = PERSONAL_DATA[event.type];
    if (!personal) return data;
    const owner = data[personal.owner];
    if (typeof owner !== 'string')
      throw new Error(`${event.type} has no ${personal.owner} to own its personal data`);
    const fields = personal.fields.filter((field) => data[field] !== undefined);
    const values = await this.vault.sealAll(
      owner,
      fields.map((field) => data[field] as JsonValue),
    );
    const sealed: JsonObject = { ...data };
    fields.forEach((field, index) => {
      sealed[field] = values[index] as JsonValue;
    });
    return sealed;
  }

  /** Events with their personal fields opened, the keys of all their owners read at once. */
  async revealAll(events: readonly RecordedEvent[]): Promise<RecordedEvent[]> {
    const sealedFields = events.flatMap((event, index) =>
      (PERSONAL_DATA[event.type]?.fields ?? []).flatMap((field) => {
        const value = event.data[field];
        return isSealed(value) ? [{ index, field, value }] : [];
      }),
    );
    const opened = await this.vault.openAll(sealedFields.map(({ value }) => value));
    // Only events that hold sealed fields are copied: most events carry no personal data.
    const revealed = [...events];
    sealedFields.forEach(({ index, field }, position) => {
      const event = revealed[index] as RecordedEvent;
      revealed[index] = { ...event, data: { ...event.data, [field]: opened[position] as JsonValue } };
    });
    return revealed;
  }

  /** Values as a read model keeps them, the sealed ones opened (ERASED once their owner is forgotten). */
  async openValues(values: readonly JsonValue[]): Promise<JsonValue[]> {
    const opened = await this.vault.openAll(values.filter(isSealed));
    let next = 0;
    return values.map((value) => (isSealed(value) ? (opened[next++] as JsonValue) : value));
  }

  async readStream(streamId: string): Promise<RecordedEvent[]> {
    return this.revealAll(await this.store.readStream(streamId));
  }

  async readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.revealAll(await this.store.readAll(options));
  }
}
