import { loadNewsletterPages } from '../adapters/admin-newsletter-files.ts';
import { storeIssueSources } from '../adapters/store-issue-sources.ts';
import type { StoreDrafts } from '../adapters/store-release-sources.ts';
import type { AdminNewsletterDeps } from '../core/admin/newsletters.ts';
import { createNewsletterRenderer } from '../core/newsletter/render.ts';
import type { Language } from '../core/publication/schema.ts';
import type { TemplateSet } from '../core/render/templates.ts';
import { loadConfig } from './config.ts';
import { adminTemplatesDir } from './templates.ts';

/**
 * The admin's newsletters section on the stack (docs/aws.md, "The web admin", "Newsletters"):
 * the issues under `publications/newsletters/` of the data bucket, drafted, edited and saved
 * there as drafts that the publish function leaves alone (store-issue-sources.ts), through the
 * releases' drafts, so that a file read is the one a save replaces. Publishing writes the file
 * again without the mark: the publish function publishes the issue (202).
 */
export async function adminNewsletters(setup: {
  drafts: StoreDrafts;
  templates: TemplateSet;
  templatesDir: string | undefined;
  siteLang: Language;
}): Promise<AdminNewsletterDeps> {
  const { timeZone } = loadConfig(['timeZone']);
  const sources = storeIssueSources(setup.drafts);
  return {
    sources,
    handOver: (file) => sources.handOver(file),
    renderer: createNewsletterRenderer(setup.templates),
    locales: setup.templates.locales,
    timeZone,
    lang: setup.siteLang,
    pages: await loadNewsletterPages(adminTemplatesDir(setup.templatesDir)),
  };
}
