import type { JsonObject, RecordedEvent } from './eventStore.js';

/** Turns the data of one event type from one schema version into the next. */
export interface Upcaster {
  eventType: string;
  fromSchemaVersion: number;
  upcast(data: JsonObject): JsonObject;
}

export type Upcast = (event: RecordedEvent) => RecordedEvent;

/** Applies upcasters one version at a time until the event is at its newest schema. */
export function upcasterChain(upcasters: readonly Upcaster[]): Upcast {
  const byKey = new Map<string, Upcaster>();
  for (const upcaster of upcasters) {
    const key = `${upcaster.eventType}@${upcaster.fromSchemaVersion}`;
    if (byKey.has(key)) throw new Error(`two upcasters for ${key}`);
    byKey.set(key, upcaster);
  }
  return (event) => {
    let current = event;
    for (;;) {
      const upcaster = byKey.get(`${current.type}@${current.metadata.schemaVersion}`);
      if (!upcaster) return current;
      current = {
        ...current,
        data: upcaster.upcast(current.data),
        metadata: { ...current.metadata, schemaVersion: upcaster.fromSchemaVersion + 1 },
      };
    }
  };
}
