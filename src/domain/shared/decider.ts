/** What a decider emits and folds: the type names a past fact, the data is plain JSON. */
export interface DomainEvent<Type extends string = string, Data extends object = object> {
  type: Type;
  data: Data;
}

/**
 * An aggregate's rules: `decide` turns a command and the current state into new events (or throws a
 * domain error), `evolve` folds one event into the state. Both are pure.
 */
export interface Decider<Command, Event extends DomainEvent, State> {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: State;
}

export function fold<Event extends DomainEvent, State>(
  decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>,
  events: readonly Event[],
): State {
  return events.reduce(decider.evolve, decider.initialState);
}
