import { loadCampaignTemplates } from '../adapters/admin-campaign-files.ts';
import { LambdaCampaignDispatcher } from '../adapters/lambda-dispatcher.ts';
import { EventBridgeCampaignScheduler } from '../adapters/scheduler.ts';
import { storeCampaignFiles } from '../adapters/store-campaign-files.ts';
import type { CampaignSectionDeps, StackCampaignDeps } from '../core/admin/campaigns.ts';
import { identityCovers } from '../core/campaigns/sender-identity.ts';
import type { Language } from '../core/publication/schema.ts';
import type { ObjectStore } from '../core/store/object-store.ts';
import { ConfigurationError, configVariables, loadConfig } from './config.ts';
import { dataLedger } from './ledger.ts';
import { currentStackLists } from './lists.ts';
import { logger, signingKeys } from './runtime.ts';
import { adminTemplatesDir } from './templates.ts';

/**
 * Why the admin on the stack sends no test message (the section's "Send a test"). The session
 * knows no address of the person signed in, and an SES grant in the web-facing function would
 * let a stolen session mail anyone from the stack's identity: the stack sends whole campaigns
 * only, as `pressroom send --test-to --backend aws` is refused.
 */
export const stackTestRefusal =
  'On AWS the admin sends no test message: the stack sends whole campaigns only (as `pressroom send --test-to` with --backend aws is refused). Make a proof instead: its link shows the message as a recipient gets it. To see it in a mailbox, run `pressroom send <campaign.yaml> --test-to you@example.org` on the local backend, or compose a campaign for a list that holds only you and send it.';

/**
 * The lists of `config/lists.yaml` (kept a minute: lists.ts) as the section offers them: their
 * titles, the senders among their own the stack's SES identity covers (`"Name <address>"`),
 * the first of them the default of a campaign that names none.
 */
async function stackLists(store: ObjectStore, identity: string, lang: Language) {
  // Compose then offers no list of it and no sender: the log says why.
  const lists = Object.values(
    await currentStackLists(
      store,
      (message, error) => logger.error(message, { error }),
      'the admin offers none of its lists',
    ),
  );
  const covered = lists.filter(
    (l) => identityCovers(identity, l.from.address) && !/[<>\r\n]/.test(l.from.name),
  );
  const [first] = covered;
  return {
    titles: Object.fromEntries(lists.map((l) => [l.name, l.title[lang] ?? l.name])),
    senders: [...new Set(covered.map((l) => `${l.from.name} <${l.from.address}>`))],
    defaults: first ? { from: first.from } : {},
  };
}

/**
 * The section's deps for one request: proof links on the press room's address (the host the
 * request came to, without a custom domain), and `config/lists.yaml` as it is now.
 */
export async function campaignsForRequest(
  deps: CampaignSectionDeps | undefined,
  siteUrl: string,
): Promise<{ campaigns?: CampaignSectionDeps }> {
  if (!deps || !('stack' in deps)) return deps ? { campaigns: deps } : {};
  const lists = await stackLists(deps.stack.store, deps.stack.senderIdentity, deps.lang);
  const { from: _before, ...defaults } = deps.defaults;
  return {
    campaigns: {
      ...deps,
      publicUrl: siteUrl,
      lists: lists.titles,
      defaults: { ...defaults, ...lists.defaults },
    },
  };
}

/**
 * The campaigns section of the admin function (lambdas/handlers/admin.ts), done as the
 * `--backend aws` commands do it: campaign files in `campaign-files/` of the data bucket,
 * records, proofs and approvals under `campaigns/`, a send handed to the dispatch function
 * (invoked asynchronously: it may run minutes, the admin answers in 30 s), a schedule on
 * EventBridge Scheduler, progress and reports from the ledger table. The lists are those of
 * `config/lists.yaml` (and those contacts are on); the senders, those lists' own the stack's
 * SES identity covers. `publicUrl` (proof links) is the press room's address, set per request.
 * The dispatch function's ARN comes from the admin's secret (lib/admin-campaigns.ts says why).
 */
export async function adminCampaigns(
  store: ObjectStore,
  options: { lang: Language; templatesDir: string | undefined; dispatchFunctionArn: string | undefined },
): Promise<{ campaigns?: StackCampaignDeps }> {
  // Not in the admin's secret (a stack deployed before the section): the section answers 503.
  const dispatchFunctionArn = options.dispatchFunctionArn;
  if (dispatchFunctionArn === undefined) return {};
  const config = loadConfig([
    'secretArn',
    'senderIdentity',
    'campaignScheduleGroup',
    'campaignSchedulerRoleArn',
    'campaignScheduleDeadLetterArn',
    'ledgerTable',
    'timeZone',
  ]);
  if (config.campaignScheduleGroup === undefined)
    throw new ConfigurationError(
      `${configVariables.campaignScheduleGroup} is not set: the admin schedules campaigns in the campaigns' schedule group (its ScheduleGroupName output)`,
    );
  const dispatcher = new LambdaCampaignDispatcher({ functionName: dispatchFunctionArn });
  const lists = await stackLists(store, config.senderIdentity, options.lang);
  const campaigns: StackCampaignDeps = {
    files: storeCampaignFiles(store),
    defaults: { ...lists.defaults, timeZone: config.timeZone },
    lists: lists.titles,
    senders: async () => (await stackLists(store, config.senderIdentity, options.lang)).senders,
    lang: options.lang,
    publicUrl: '',
    timeZone: config.timeZone,
    templates: await loadCampaignTemplates(adminTemplatesDir(options.templatesDir)),
    stack: {
      store,
      keys: await signingKeys(config.secretArn),
      ...dataLedger(config.ledgerTable),
      starter: dispatcher,
      scheduler: new EventBridgeCampaignScheduler({
        groupName: config.campaignScheduleGroup,
        targetArn: dispatchFunctionArn,
        roleArn: config.campaignSchedulerRoleArn,
        deadLetterArn: config.campaignScheduleDeadLetterArn,
      }),
      senderIdentity: config.senderIdentity,
      testRefusal: stackTestRefusal,
    },
  };
  return { campaigns };
}
