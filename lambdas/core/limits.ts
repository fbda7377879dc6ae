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
} as const;
