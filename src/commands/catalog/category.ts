import { randomUUID } from 'node:crypto';
import { categories } from '../aggregates.js';
import type { CommandEnvironment, Written } from '../commandEnvironment.js';
import { type CommandContext, handle } from '../commandHandler.js';

export async function createCategory(
  env: CommandEnvironment,
  name: string,
  context: CommandContext,
): Promise<Written & { categoryId: string }> {
  const categoryId = randomUUID();
  const created = await handle(env.streams, categories, {
    id: categoryId,
    command: { type: 'CreateCategory', categoryId, name, now: env.now().toISOString() },
    context,
  });
  return { categoryId, revision: created.revision, position: created.position };
}

/** Whether a category of this id was ever created: categories are never removed. */
export async function categoryExists(env: CommandEnvironment, categoryId: string): Promise<boolean> {
  const { revision } = await env.streams.read(categories.streamId(categoryId));
  return revision !== -1;
}
