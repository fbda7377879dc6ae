import { Command } from 'commander';
import { archiveCommand } from './commands/archive.ts';
import { contactsCommand } from './commands/contacts.ts';
import { newsletterCommand } from './commands/newsletter.ts';
import { publishCommand } from './commands/publish.ts';
import { renderCommand } from './commands/render.ts';
import { schemaCommand } from './commands/schema.ts';
import { campaignCommand, scheduleCommand, sendCommand } from './commands/send.ts';
import { serveCommand } from './commands/serve.ts';
import { fail } from './output.ts';

const program = new Command('pressroom')
  .description('Press releases and newsletters: render, archive, schedule and mail them.')
  .version('0.1.0')
  .showHelpAfterError()
  .addCommand(renderCommand)
  .addCommand(publishCommand)
  .addCommand(newsletterCommand)
  .addCommand(archiveCommand)
  .addCommand(contactsCommand)
  .addCommand(sendCommand)
  .addCommand(scheduleCommand)
  .addCommand(campaignCommand)
  .addCommand(serveCommand)
  .addCommand(schemaCommand);

program.parseAsync(process.argv).catch(fail);
