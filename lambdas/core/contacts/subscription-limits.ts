/**
 * At most this many confirmation emails in all, per hour, whoever asks: what a flood of
 * requests from many sources (each under its own limit) can cost in mail and in sending
 * reputation. Configurable (`confirmationsPerHour` on AWS); this is the default. Apart from
 * subscription.ts so that the stack's configuration reads it without the mail code.
 */
export const defaultConfirmationsPerHour = 500;
