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

/** How long a function keeps `config/lists.yaml`: it changes without a deploy. */
const listsTtlMs = 60_000;

let kept: { at: number; lists: Promise<SubscribableLists> } | undefined;

/**
 * The stack's lists as this instance last read them, read again after `listsTtlMs`. An invalid
 * file is logged (what the function then does without it is `without`) and offers no list; a
 * read that fails is not kept, so the next call reads again.
 */
export function currentStackLists(
  store: ObjectStore,
  log: (message: string, error: Error) => void,
  without: string,
): Promise<SubscribableLists> {
  if (kept && Date.now() - kept.at < listsTtlMs) return kept.lists;
  const read = {
    at: Date.now(),
    lists: readStackLists(store).then(({ lists, invalid }) => {
      if (invalid) log(`${listsKey} is invalid: ${without} until it is fixed`, invalid);
      return lists;
    }),
  };
  kept = read;
  read.lists.catch(() => {
    if (kept === read) kept = undefined;
  });
  return read.lists;
}
