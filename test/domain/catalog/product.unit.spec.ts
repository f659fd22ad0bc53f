import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import {
  type ProductCreatedData,
  type ProductEvent,
  productStreamId,
} from '../../../src/domain/catalog/product.js';
import {
  type CreateProduct,
  type ProductChanges,
  productDecider,
  type UpdateProduct,
} from '../../../src/domain/catalog/product.decide.js';
import { fold } from '../../../src/domain/shared/decider.js';
import { NotFound, RuleViolation, ValidationError } from '../../../src/domain/shared/errors.js';
import { given } from '../../support/given.js';

const createdAt = '2025-03-01T10:00:00.000Z';
const at = '2025-03-02T11:30:00.000Z';

const create = (
  productId: string,
  fields: Partial<Omit<CreateProduct, 'type' | 'productId'>> = {},
): CreateProduct => ({
  type: 'CreateProduct',
  productId,
  name: 'Espresso cup',
  priceCents: 1299,
  now: createdAt,
  ...fields,
});

const update = (productId: string, changes: ProductChanges): UpdateProduct => ({
  type: 'UpdateProduct',
  productId,
  changes,
  now: at,
});

const created = (
  productId: string,
  data: Partial<Omit<ProductCreatedData, 'productId'>> = {},
): ProductEvent => ({
  type: 'ProductCreated',
  data: {
    productId,
    name: 'Espresso cup',
    description: null,
    priceCents: 1299,
    categoryId: null,
    imageUrl: null,
    createdAt,
    ...data,
  },
});

const deactivated = (productId: string): ProductEvent => ({
  type: 'ProductDeactivated',
  data: { productId, at },
});
const activated = (productId: string): ProductEvent => ({
  type: 'ProductActivated',
  data: { productId, at },
});

const badImageUrls = [
  'not a url',
  '/images/cup.png',
  'ftp://example.com/cup.png',
  'javascript:alert(1)',
  'data:image/png;base64,AAAA',
  'https://example.com/a cup.png',
  ' https://example.com/cup.png',
  `https://example.com/${'a'.repeat(2029)}`,
];

const badPrices = [0, -100, 12.5, 100_000_001, Number.NaN, Number.POSITIVE_INFINITY];

describe('Product', () => {
  describe('when absent', () => {
    it('is created active with every field given', () => {
      const id = randomUUID();
      const categoryId = randomUUID();
      given(productDecider)
        .when(
          create(id, {
            description: 'Porcelain, 80 ml',
            categoryId,
            imageUrl: 'https://cdn.example.com/cup.png',
          }),
        )
        .then([
          created(id, {
            description: 'Porcelain, 80 ml',
            categoryId,
            imageUrl: 'https://cdn.example.com/cup.png',
          }),
        ]);
    });

    it('is created with null for the optional fields left out', () => {
      const id = randomUUID();
      given(productDecider)
        .when(create(id))
        .then([created(id)]);
    });

    it('stores its name without surrounding spaces', () => {
      const id = randomUUID();
      given(productDecider)
        .when(create(id, { name: '  Espresso cup\n' }))
        .then([created(id)]);
    });

    it('refuses a blank name', () => {
      given(productDecider)
        .when(create(randomUUID(), { name: ' \t ' }))
        .thenThrows(ValidationError, /^name:/);
    });

    it('accepts a name of 255 characters, counting an emoji as one', () => {
      const id = randomUUID();
      const name = '☕'.repeat(200) + '🍵'.repeat(55);
      given(productDecider)
        .when(create(id, { name }))
        .then([created(id, { name })]);
    });

    it('refuses a name longer than 255 characters', () => {
      given(productDecider)
        .when(create(randomUUID(), { name: 'x'.repeat(256) }))
        .thenThrows(ValidationError, /^name: must be 1 to 255 characters/);
    });

    it('accepts the lowest and the highest price', () => {
      const id = randomUUID();
      given(productDecider)
        .when(create(id, { priceCents: 1 }))
        .then([created(id, { priceCents: 1 })]);
      given(productDecider)
        .when(create(id, { priceCents: 100_000_000 }))
        .then([created(id, { priceCents: 100_000_000 })]);
    });

    for (const priceCents of badPrices) {
      it(`refuses a price of ${priceCents} cents`, () => {
        given(productDecider)
          .when(create(randomUUID(), { priceCents }))
          .thenThrows(ValidationError, /^price: must be from 0\.01 to 1000000\.00/);
      });
    }

    it('accepts a description of 5000 characters', () => {
      const id = randomUUID();
      const description = 'd'.repeat(5000);
      given(productDecider)
        .when(create(id, { description }))
        .then([created(id, { description })]);
    });

    it('refuses a description longer than 5000 characters', () => {
      given(productDecider)
        .when(create(randomUUID(), { description: 'd'.repeat(5001) }))
        .thenThrows(ValidationError, /^description: must be at most 5000 characters/);
    });

    it('accepts an http or https image URL of up to 2048 characters', () => {
      const id = randomUUID();
      for (const imageUrl of ['http://example.com/cup.png', `https://example.com/${'a'.repeat(2028)}`]) {
        given(productDecider)
          .when(create(id, { imageUrl }))
          .then([created(id, { imageUrl })]);
      }
    });

    for (const imageUrl of badImageUrls) {
      it(`refuses the image URL ${JSON.stringify(imageUrl.slice(0, 40))}`, () => {
        given(productDecider)
          .when(create(randomUUID(), { imageUrl }))
          .thenThrows(ValidationError, /^imageUrl: must be an http or https URL/);
      });
    }

    it('refuses to be updated, as it is not found', () => {
      const id = randomUUID();
      given(productDecider)
        .when(update(id, { name: 'Mug' }))
        .thenThrows(NotFound, new RegExp(`^product ${id} not found$`));
    });
  });

  describe('when active', () => {
    it('refuses to be created again', () => {
      const id = randomUUID();
      given(productDecider, [created(id)])
        .when(create(id, { name: 'Mug' }))
        .thenThrows(RuleViolation, /already exists/);
    });

    it('is renamed, with the new name trimmed', () => {
      const id = randomUUID();
      given(productDecider, [created(id)])
        .when(update(id, { name: ' Mug ' }))
        .then([{ type: 'ProductRenamed', data: { productId: id, name: 'Mug', at } }]);
    });

    it('records one event per changed field, in a fixed order', () => {
      const id = randomUUID();
      given(productDecider, [created(id)])
        .when(
          update(id, {
            active: false,
            imageUrl: 'https://cdn.example.com/mug.png',
            priceCents: 1499,
            description: 'Stoneware',
            name: 'Mug',
          }),
        )
        .then([
          { type: 'ProductRenamed', data: { productId: id, name: 'Mug', at } },
          { type: 'ProductDescribed', data: { productId: id, description: 'Stoneware', at } },
          { type: 'ProductRepriced', data: { productId: id, priceCents: 1499, at } },
          {
            type: 'ProductImageChanged',
            data: { productId: id, imageUrl: 'https://cdn.example.com/mug.png', at },
          },
          deactivated(id),
        ]);
    });

    it('records only the fields that really change', () => {
      const id = randomUUID();
      given(productDecider, [created(id, { description: 'Porcelain' })])
        .when(update(id, { name: '  Espresso cup ', description: 'Porcelain', priceCents: 1199 }))
        .then([{ type: 'ProductRepriced', data: { productId: id, priceCents: 1199, at } }]);
    });

    it('records nothing when every change matches what it already is', () => {
      const id = randomUUID();
      given(productDecider, [created(id)])
        .when(update(id, { name: 'Espresso cup', priceCents: 1299, description: null, imageUrl: null }))
        .then([]);
    });

    it('clears its description and image with null', () => {
      const id = randomUUID();
      given(productDecider, [
        created(id, { description: 'Porcelain', imageUrl: 'https://cdn.example.com/cup.png' }),
      ])
        .when(update(id, { description: null, imageUrl: null }))
        .then([
          { type: 'ProductDescribed', data: { productId: id, description: null, at } },
          { type: 'ProductImageChanged', data: { productId: id, imageUrl: null, at } },
        ]);
    });

    it('is deactivated', () => {
      const id = randomUUID();
      given(productDecider, [created(id)])
        .when(update(id, { active: false }))
        .then([deactivated(id)]);
    });

    it('refuses to be activated again', () => {
      const id = randomUUID();
      given(productDecider, [created(id)])
        .when(update(id, { active: true }))
        .thenThrows(RuleViolation, /already active/);
    });

    it('refuses an update that changes nothing at all', () => {
      const id = randomUUID();
      given(productDecider, [created(id)])
        .when(update(id, {}))
        .thenThrows(ValidationError, /^changes: must change at least one/);
    });

    it('refuses an invalid name, description, price or image URL, as at creation', () => {
      const id = randomUUID();
      const history = [created(id)];
      given(productDecider, history)
        .when(update(id, { name: '' }))
        .thenThrows(ValidationError, /^name:/);
      given(productDecider, history)
        .when(update(id, { name: 'x'.repeat(256) }))
        .thenThrows(ValidationError, /^name:/);
      given(productDecider, history)
        .when(update(id, { description: 'd'.repeat(5001) }))
        .thenThrows(ValidationError, /^description:/);
      for (const priceCents of badPrices) {
        given(productDecider, history)
          .when(update(id, { priceCents }))
          .thenThrows(ValidationError, /^price:/);
      }
      for (const imageUrl of badImageUrls) {
        given(productDecider, history)
          .when(update(id, { imageUrl }))
          .thenThrows(ValidationError, /^imageUrl:/);
      }
    });
  });

  describe('when inactive', () => {
    it('refuses to be deactivated again', () => {
      const id = randomUUID();
      given(productDecider, [created(id), deactivated(id)])
        .when(update(id, { active: false }))
        .thenThrows(RuleViolation, /already inactive/);
    });

    it('refuses the whole update when it would be deactivated again', () => {
      const id = randomUUID();
      given(productDecider, [created(id), deactivated(id)])
        .when(update(id, { name: 'Mug', active: false }))
        .thenThrows(RuleViolation, /already inactive/);
    });

    it('is activated', () => {
      const id = randomUUID();
      given(productDecider, [created(id), deactivated(id)])
        .when(update(id, { active: true }))
        .then([activated(id)]);
    });

    it('can still be edited', () => {
      const id = randomUUID();
      given(productDecider, [created(id), deactivated(id)])
        .when(update(id, { priceCents: 999 }))
        .then([{ type: 'ProductRepriced', data: { productId: id, priceCents: 999, at } }]);
    });

    it('refuses to be created again', () => {
      const id = randomUUID();
      given(productDecider, [created(id), deactivated(id)])
        .when(create(id))
        .thenThrows(RuleViolation, /already exists/);
    });
  });

  describe('when folded', () => {
    it('holds every field from its creation, active', () => {
      const id = randomUUID();
      const categoryId = randomUUID();
      expect(fold(productDecider, [created(id, { categoryId })])).to.deep.equal({
        status: 'Active',
        id,
        name: 'Espresso cup',
        description: null,
        priceCents: 1299,
        categoryId,
        imageUrl: null,
        createdAt,
        updatedAt: createdAt,
      });
    });

    it('applies every change and keeps the time of the last one', () => {
      const id = randomUUID();
      const categoryId = randomUUID();
      const history: ProductEvent[] = [
        created(id, { categoryId, imageUrl: 'https://cdn.example.com/cup.png' }),
        { type: 'ProductRenamed', data: { productId: id, name: 'Mug', at } },
        { type: 'ProductDescribed', data: { productId: id, description: 'Stoneware', at } },
        { type: 'ProductRepriced', data: { productId: id, priceCents: 1499, at } },
        { type: 'ProductImageChanged', data: { productId: id, imageUrl: null, at } },
        deactivated(id),
      ];
      expect(fold(productDecider, history)).to.deep.equal({
        status: 'Inactive',
        id,
        name: 'Mug',
        description: 'Stoneware',
        priceCents: 1499,
        categoryId,
        imageUrl: null,
        createdAt,
        updatedAt: at,
      });
    });

    it('is active again once activated', () => {
      const id = randomUUID();
      const state = fold(productDecider, [created(id), deactivated(id), activated(id)]);
      expect(state.status).to.equal('Active');
    });
  });

  describe('when stored', () => {
    it('lives in a stream named after its id', () => {
      const id = randomUUID();
      expect(productStreamId(id)).to.equal(`product-${id}`);
    });
  });
});
