import { PdfUnavailableError, printedRelease, renderRelease } from '../archive/publish.ts';
import { InvalidInputError } from '../errors.ts';
import { type AdminReleaseDeps, type FieldProblem, fieldProblems, releaseFile } from './releases.ts';

/**
 * A release's PDF as `pressroom publish` prints it (the same page, the same printer, the same
 * document information), from its file, for the admin's preview; nothing is archived. The
 * printer is the one `pressroom serve` hands to publishing: its browser starts on the first
 * PDF and stops with the server.
 */

export type ReleasePdf =
  | { pdf: Uint8Array; slug: string }
  /** No browser to print with (or none asked for): why, and what to do. */
  | { unavailable: string }
  | { problems: FieldProblem[] }
  | undefined;

/** The PDF of the workspace's release of `slug`; undefined when no file has it. */
export async function releasePdf(deps: AdminReleaseDeps, slug: string): Promise<ReleasePdf> {
  const found = await releaseFile(deps, slug);
  if (!found) return undefined;
  const publishing = deps.publishing;
  if (!publishing?.printer)
    return {
      unavailable:
        deps.noPdfReason ??
        'this server prints no PDF (started with pressroom serve --no-pdf): restart it without --no-pdf, or print it with pressroom publish',
    };
  try {
    const rendered = await renderRelease(found.file.path, publishing, { pdfLink: true });
    const pdf = await publishing.printer.print(
      rendered.rendered.page,
      printedRelease(rendered.publication, deps.now.toISOString()),
    );
    return { pdf, slug: rendered.publication.slug };
  } catch (error) {
    if (error instanceof PdfUnavailableError) return { unavailable: error.message };
    if (error instanceof InvalidInputError) return { problems: fieldProblems(error.problems, true) };
    throw error;
  }
}
