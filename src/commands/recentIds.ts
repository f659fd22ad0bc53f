/** Ids a process remembers, the oldest forgotten once there are more than `capacity`. */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(...ids: readonly string[]): void {
    for (const id of ids) this.ids.add(id);
    for (const oldest of this.ids) {
      if (this.ids.size <= this.capacity) break;
      this.ids.delete(oldest);
    }
  }
}
