import Handlebars from 'handlebars';
import type { OutgoingMessage } from '../campaigns/mailer.ts';
import { asciiDomain } from '../campaigns/message.ts';
import { composeMessage } from '../campaigns/message-skeleton.ts';
import type { Language } from '../publication/schema.ts';
import { fillPattern } from '../render/locale.ts';
import type { TemplateSet } from '../render/templates.ts';
import type { ContactKeys } from './model.ts';
import type { SubscribableList } from './subscription-lists.ts';
import { signUnsubscribeToken } from './tokens.ts';

/**
 * The confirmation email of a subscription (double opt-in): the list's title, the signed
 * link and how long it works, in the request's language. It carries nothing typed in the
 * form but the address it goes to: bots that fill forms with spam in the name field get
 * none of it mailed.
 */

/** Outbox folder and SES message tag of confirmation emails; `_` keeps it apart from campaign names. */
export const confirmationMailbox = '_subscriptions';

const compiled = new WeakMap<
  TemplateSet,
  { html: Handlebars.TemplateDelegate; text: Handlebars.TemplateDelegate }
>();

function templatesOf(templates: TemplateSet) {
  let t = compiled.get(templates);
  if (!t) {
    const hbs = Handlebars.create();
    t = {
      html: hbs.compile(templates.subscription.email, { strict: true }),
      // Plain text is not HTML: nothing to escape.
      text: hbs.compile(templates.subscription.text, { strict: true, noEscape: true }),
    };
    compiled.set(templates, t);
  }
  return t;
}

export interface ConfirmationEmail {
  list: SubscribableList;
  lang: Language;
  contactId: string;
  email: string;
  confirmUrl: string;
  hours: number;
  /** Base of the unsubscribe link the message carries (as every message does). */
  publicUrl: string;
  /** Mailbox of the mailto: unsubscribe; default the list's reply-to, else its sender. */
  unsubscribeMailbox?: string;
  now: Date;
}

export async function composeConfirmationEmail(
  email: ConfirmationEmail,
  deps: { templates: TemplateSet; keys: ContactKeys },
): Promise<OutgoingMessage> {
  const { list, lang } = email;
  const t = deps.templates.locales[lang];
  const title = list.title[lang];
  const view = {
    lang,
    sender: list.from.name || list.from.address,
    subject: fillPattern(t.confirmationSubject, { list: title }),
    intro: fillPattern(t.confirmationIntro, { list: title }),
    action: fillPattern(t.confirmationAction, { hours: String(email.hours) }),
    button: t.confirmButton,
    confirmUrl: email.confirmUrl,
    ignore: t.confirmationIgnore,
  };
  const { html, text } = templatesOf(deps.templates);
  const domain = asciiDomain(list.from.address);
  // Named after the contact id (never the address), as campaign messages are: erasure and
  // access requests find it in the outbox.
  const messageId = `<subscription.${email.now.getTime().toString(36)}.${email.contactId}@${domain}>`;
  // A one-click unsubscribe from the list, as in every message: "not me, stop".
  const token = signUnsubscribeToken(deps.keys, {
    contact: email.contactId,
    list: list.name,
    campaign: confirmationMailbox,
  });
  const mailbox = email.unsubscribeMailbox ?? list.replyTo ?? list.from.address;
  const raw = await composeMessage({
    from: list.from,
    to: { address: email.email },
    ...(list.replyTo && { replyTo: list.replyTo }),
    subject: view.subject,
    html: html(view),
    text: text(view),
    messageId,
    date: email.now,
    unsubscribe: {
      url: `${email.publicUrl.replace(/\/$/, '')}/unsubscribe/${token}`,
      mailto: `mailto:${mailbox}?subject=unsubscribe%20${token}`,
    },
    listId: `<${list.name}.${domain}>`,
  });
  return { raw, messageId, from: list.from.address, to: email.email, campaign: confirmationMailbox };
}
