import { assertNever } from '../shared/assertNever.js';
import type { Decider, DomainEvent } from '../shared/decider.js';
import { RuleViolation } from '../shared/errors.js';
import { requireName } from './text.js';

export const CATEGORY_NAME_MAX_LENGTH = 100;

export const categoryStreamId = (categoryId: string): string => `category-${categoryId}`;

// Events

export interface CategoryCreatedData {
  categoryId: string;
  name: string;
  createdAt: string;
}

export type CategoryCreated = DomainEvent<'CategoryCreated', CategoryCreatedData>;

export type CategoryEvent = CategoryCreated;

// Commands

export interface CreateCategory {
  type: 'CreateCategory';
  categoryId: string;
  name: string;
  now: string;
}

export type CategoryCommand = CreateCategory;

// State

export interface CreatedCategory {
  status: 'Created';
  id: string;
  name: string;
  createdAt: string;
}

export type Category = { status: 'Absent' } | CreatedCategory;

export const initialState: Category = { status: 'Absent' };

export const evolve = (_state: Category, event: CategoryEvent): Category => {
  switch (event.type) {
    case 'CategoryCreated':
      return {
        status: 'Created',
        id: event.data.categoryId,
        name: event.data.name,
        createdAt: event.data.createdAt,
      };
    default:
      // A one-member union is not narrowed to never by its tag, but the tag itself is.
      return assertNever(event.type);
  }
};

export const decide = (command: CategoryCommand, state: Category): CategoryEvent[] => {
  switch (command.type) {
    case 'CreateCategory': {
      const name = requireName(command.name, CATEGORY_NAME_MAX_LENGTH);
      if (state.status !== 'Absent') throw new RuleViolation(`category ${command.categoryId} already exists`);
      return [
        { type: 'CategoryCreated', data: { categoryId: command.categoryId, name, createdAt: command.now } },
      ];
    }
    default:
      return assertNever(command.type);
  }
};

export const categoryDecider: Decider<CategoryCommand, CategoryEvent, Category> = {
  decide,
  evolve,
  initialState,
};
