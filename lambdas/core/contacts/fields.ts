/**
 * The fields of a contact that an import can fill, in the order help texts list them. A module
 * of its own, importing nothing, so that the command line's definitions can name them without
 * loading the importer.
 */
export const contactFields = [
  'email',
  'firstName',
  'lastName',
  'organization',
  'role',
  'language',
  'tags',
] as const;
export type ContactField = (typeof contactFields)[number];
