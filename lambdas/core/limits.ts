/**
 * Limits on what pressroom accepts, in one place: the format docs list the same numbers.
 * A value over a limit is refused with the file, line, field and the limit, never truncated.
 */
export const limits = {
  /** An email address (RFC 5321: 254 octets for a path). */
  email: 254,
  /** pressroom.yaml: a few settings, read at every command. */
  workspaceFileBytes: 256 * 1024,
  /** The reason given for withdrawing a release (`pressroom archive withdraw --reason`), in characters. */
  withdrawReason: 500,
  /** A contact's first name, and last name (also what the subscription form accepts). */
  contactName: 100,
  /** A contact's organisation (outlet, company) and role (function, beat). */
  contactOrganization: 200,
  contactRole: 200,
  /** A contact's language tag (BCP 47 tags are at most 35 characters). */
  contactLanguage: 35,
  /** One tag of a contact. */
  contactTag: 50,
} as const;
