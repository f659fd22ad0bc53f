/** Where a subscriber of the event store has got to, kept across restarts. */
export interface Checkpoints {
  /** The position of the last event the subscriber handled; undefined before its first. */
  load(subscriber: string): Promise<number | undefined>;
  save(subscriber: string, position: number): Promise<void>;
}
