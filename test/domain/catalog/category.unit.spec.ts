import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type CategoryEvent,
  categoryDecider,
  categoryStreamId,
  type CreateCategory,
} from '../../../src/domain/catalog/category.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { RuleViolation, ValidationError } from '../../../src/domain/shared/errors.js';
import { given } from '../../support/given.js';

const now = '2025-03-01T10:00:00.000Z';

const create = (categoryId: string, name: string): CreateCategory => ({
  type: 'CreateCategory',
  categoryId,
  name,
  now,
});

const created = (categoryId: string, name: string): CategoryEvent => ({
  type: 'CategoryCreated',
  data: { categoryId, name, createdAt: now },
});

describe('Category', () => {
  describe('when absent', () => {
    it('is created with its name and the time', () => {
      const id = randomUUID();
      given(categoryDecider)
        .when(create(id, 'Books'))
        .then([created(id, 'Books')]);
    });

    it('stores its name without surrounding spaces', () => {
      const id = randomUUID();
      given(categoryDecider)
        .when(create(id, '  Garden tools \t'))
        .then([created(id, 'Garden tools')]);
    });

    it('refuses a blank name', () => {
      given(categoryDecider)
        .when(create(randomUUID(), '   '))
        .thenThrows(ValidationError, /^name:/);
    });

    it('accepts a name of 100 characters, counting an emoji as one', () => {
      const id = randomUUID();
      const name = '📚'.repeat(100);
      given(categoryDecider)
        .when(create(id, name))
        .then([created(id, name)]);
    });

    it('refuses a name longer than 100 characters', () => {
      given(categoryDecider)
        .when(create(randomUUID(), 'x'.repeat(101)))
        .thenThrows(ValidationError, /^name: must be 1 to 100 characters/);
    });
  });

  describe('when created', () => {
    it('refuses to be created again', () => {
      const id = randomUUID();
      given(categoryDecider, [created(id, 'Books')])
        .when(create(id, 'Other books'))
        .thenThrows(RuleViolation, /already exists/);
    });

    it('folds into a state holding its id, name and creation time', () => {
      const id = randomUUID();
      expect(fold(categoryDecider, [created(id, 'Books')])).to.deep.equal({
        status: 'Created',
        id,
        name: 'Books',
        createdAt: now,
      });
    });
  });

  describe('when stored', () => {
    it('lives in a stream named after its id', () => {
      const id = randomUUID();
      expect(categoryStreamId(id)).to.equal(`category-${id}`);
    });
  });
});
