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
  'outlet',
  'role',
  'beats',
  'language',
  'phone',
  'notes',
  'doNotContact',
  'tags',
] as const;
export type ContactField = (typeof contactFields)[number];

/**
 * The fields that hold one text: an import's non-empty value replaces the contact's, an empty
 * cell or a missing column keeps it (profile.ts reads `language`, `phone` and `notes`).
 */
export const contactTextFields = [
  'firstName',
  'lastName',
  'organization',
  'outlet',
  'role',
  'language',
  'phone',
  'notes',
] as const;
export type ContactTextField = (typeof contactTextFields)[number];
