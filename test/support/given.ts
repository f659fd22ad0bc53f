import { expect } from 'chai';
import { type Decider, type DomainEvent, fold } from '../../src/domain/shared/decider.js';

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * Specifications for deciders: given past events, when a command is decided, then these events
 * are emitted, or this error is thrown.
 */
export function given<Command, Event extends DomainEvent, State>(
  decider: Decider<Command, Event, State>,
  events: readonly Event[] = [],
) {
  return {
    when(command: Command) {
      const decide = (): Event[] => decider.decide(command, fold(decider, events));
      return {
        then(expected: readonly Event[]): void {
          expect(decide()).to.deep.equal(expected);
        },
        thenThrows(errorClass: ErrorClass, message?: string | RegExp): void {
          expect(decide).to.throw(errorClass as unknown as ErrorConstructor, message);
        },
      };
    },
  };
}
