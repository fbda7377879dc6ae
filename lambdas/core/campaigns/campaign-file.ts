import { InvalidInputError, type Problem } from '../errors.ts';
import {
  controlCharacterProblem,
  formatPath,
  type LocatedYaml,
  parseYaml,
  readInputText,
  validate,
} from '../input.ts';
import type { SourceFiles } from '../publication/load.ts';
import { type CampaignDefinition, campaignFileSchema } from './campaign.ts';
import { parseSendTime, type SendTime } from './time.ts';

/**
 * Campaign files as people write them (YAML), read and checked. Apart from the campaign
 * records so that the functions, which only read records, do not load the YAML parser.
 */

/**
 * What a campaign file may leave out, taken from its workspace (pressroom.yaml, or the
 * environment): the sender, the reply address, and the zone of a `sendAt` written without one.
 */
export interface CampaignDefaults {
  from?: { name: string; address: string };
  replyTo?: string;
  timeZone?: string;
  /** The lists marked `press: true` in pressroom.yaml: the only ones `embargo: advance` may mail. */
  pressLists?: readonly string[];
}

/** `2021-06-08 08:00` (a wall-clock time with no zone or offset): read in `zone` when there is one. */
function inZone(sendAt: string, zone: string | undefined): string {
  const bare = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?$/.test(sendAt.trim());
  return bare && zone ? `${sendAt.trim()} ${zone}` : sendAt;
}

/**
 * Reads and validates a campaign file; every problem is reported with its line. What reading
 * it noticed (a file converted to UTF-8) goes to `notices`, for the caller to show.
 */
export async function loadCampaignFile(
  file: string,
  files: SourceFiles,
  defaults: CampaignDefaults = {},
  notices: string[] = [],
): Promise<CampaignDefinition> {
  const source = await readInputText(files, file, notices);
  const control = controlCharacterProblem(source, file);
  if (control) throw new InvalidInputError([control]);
  const parsed = parseYaml(source, file);
  const checked = validate(campaignFileSchema, parsed);
  if (!checked.ok) throw new InvalidInputError(checked.problems);
  const c = checked.value;
  const problems: Problem[] = [];
  if ((c.publication === undefined) === (c.newsletter === undefined)) {
    const both = c.publication !== undefined;
    problems.push({
      file,
      ...(both ? parsed.locateKey([], 'newsletter') : { line: 1 }),
      path: both ? 'newsletter' : 'publication',
      message: both
        ? 'a campaign sends one thing: keep "publication" (a release) or "newsletter" (an issue), not both'
        : 'is required: write "publication: <release slug>" or "newsletter: <issue id>"',
    });
  }
  if ((c.audience.list === undefined) === (c.audience.lists === undefined)) {
    const both = c.audience.list !== undefined;
    problems.push({
      file,
      ...(both ? parsed.locateKey(['audience'], 'lists') : parsed.locate(['audience'])),
      path: both ? 'audience.lists' : 'audience',
      message: both
        ? 'write "list: presse" for one list or "lists: [presse, lettre]" for several, not both'
        : 'names no list: write "list: presse", or "lists: [presse, lettre]" for several',
    });
  }
  if (c.newsletter !== undefined && c.attachPdf) {
    problems.push({
      file,
      ...parsed.locateKey([], 'attachPdf'),
      path: 'attachPdf',
      message: 'a newsletter issue has no PDF: remove attachPdf (or set it to false)',
      value: true,
    });
  }
  if (c.newsletter !== undefined && c.embargo !== undefined) {
    problems.push({
      file,
      ...parsed.locateKey([], 'embargo'),
      path: 'embargo',
      message:
        'a newsletter issue is sent once the releases it links to are public: advance copies are for releases; remove embargo',
      value: c.embargo,
    });
  } else if (c.embargo === 'advance')
    problems.push(...advanceListProblems(c.audience, defaults, parsed, file));
  const from = c.from ?? defaults.from;
  const replyTo = c.replyTo ?? defaults.replyTo;
  if (!from) {
    problems.push({
      file,
      line: 1,
      path: 'from',
      message:
        'is required: write from: "Name <address@example.org>" here, or set sender in pressroom.yaml (or PRESSROOM_SENDER)',
    });
  }
  if (problems.length > 0 || !from) throw new InvalidInputError(problems);
  let sendAt: SendTime | undefined;
  if (c.sendAt !== undefined) {
    const time = parseSendTime(inZone(c.sendAt, defaults.timeZone));
    if ('error' in time) {
      throw new InvalidInputError([
        {
          file,
          ...parsed.locate(['sendAt']),
          path: formatPath(['sendAt']),
          message: time.error,
          value: c.sendAt,
        },
      ]);
    }
    sendAt = time;
  }
  return {
    name: c.name,
    ...(c.newsletter !== undefined ? { newsletter: c.newsletter } : { publication: c.publication ?? '' }),
    audience: {
      lists: [...new Set(c.audience.lists ?? (c.audience.list !== undefined ? [c.audience.list] : []))],
      ...(c.audience.tags && { tags: c.audience.tags }),
      tagsMode: c.audience.tagsMode,
      ...(c.audience.beats && { beats: c.audience.beats }),
      ...(c.audience.outlets && { outlets: c.audience.outlets }),
      ...(c.audience.languages && { languages: c.audience.languages }),
      ...(c.audience.topics && { topics: c.audience.topics }),
    },
    from,
    ...(replyTo !== undefined && { replyTo }),
    ...(c.subject !== undefined && { subject: c.subject }),
    ...(sendAt && { sendAt }),
    attachPdf: c.attachPdf,
    ...(c.approval !== undefined && { approval: c.approval }),
    ...(c.embargo === 'advance' && { advance: { zone: defaults.timeZone ?? 'UTC' } }),
    ...((c.tracking?.opens || c.tracking?.clicks) && { tracking: c.tracking }),
  };
}

/** An advance copy goes to press lists only: each other list of the audience, with the reason. */
function advanceListProblems(
  audience: { list?: string | undefined; lists?: string[] | undefined },
  defaults: CampaignDefaults,
  parsed: LocatedYaml,
  file: string,
): Problem[] {
  const press = defaults.pressLists ?? [];
  const named = audience.lists ?? (audience.list !== undefined ? [audience.list] : []);
  return named.flatMap((list, i) =>
    press.includes(list)
      ? []
      : [
          {
            file,
            ...(audience.lists
              ? parsed.locate(['audience', 'lists', i])
              : parsed.locate(['audience', 'list'])),
            path: audience.lists ? `audience.lists[${i}]` : 'audience.list',
            message: `is not a press list: embargo: advance sends the release before its embargo lifts, to journalists only, so only to lists marked "press: true" in pressroom.yaml (${press.length > 0 ? `press lists: ${press.join(', ')}` : 'none is'}). Send to a press list, mark this one press: true if it holds journalists only, or remove "embargo: advance" and send after the lift`,
            value: list,
          },
        ],
  );
}
