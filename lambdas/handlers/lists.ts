import { parseSubscribableLists, type SubscribableLists } from '../core/contacts/subscription-lists.ts';
import { getText, type ObjectStore } from '../core/store/object-store.ts';

/**
 * The lists of the stack: `config/lists.yaml` in the data bucket (the format of `lists.yaml`).
 * The public function offers them for subscription; the publish function schedules the topic
 * alerts of those that offer topics.
 */
export const listsKey = 'config/lists.yaml';

/** The stack's lists: none when the file is absent; none, and why, when it is invalid. */
export async function readStackLists(
  store: ObjectStore,
): Promise<{ lists: SubscribableLists; invalid?: Error }> {
  const source = await getText(store, listsKey);
  if (source === undefined) return { lists: {} };
  try {
    return { lists: parseSubscribableLists(source, listsKey) };
  } catch (error) {
    return { lists: {}, invalid: error as Error };
  }
}
