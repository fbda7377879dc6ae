/**
 * Social profiles of an organisation: the networks pressroom knows, their display names,
 * and the profile link of a handle. Imports nothing, so the schema can validate with it.
 */
export const socialNetworks = [
  'twitter',
  'x',
  'mastodon',
  'bluesky',
  'linkedin',
  'facebook',
  'instagram',
  'youtube',
] as const;
export type SocialNetwork = (typeof socialNetworks)[number];

const networkLabels: Record<SocialNetwork, string> = {
  twitter: 'Twitter',
  x: 'X',
  mastodon: 'Mastodon',
  bluesky: 'Bluesky',
  linkedin: 'LinkedIn',
  facebook: 'Facebook',
  instagram: 'Instagram',
  youtube: 'YouTube',
};

/** What a handle may be written as, per network, for the message of a rejected one. */
export const socialHandleHelp =
  'must be an https URL of the profile, or a handle: "@name" (X, Twitter, Instagram, YouTube), "@name@server" (Mastodon), "name.bsky.social" (Bluesky), "company/name" or "in/name" (LinkedIn), "name" (Facebook)';

/**
 * The profile's display name and link. A handle is written as people give it ("@Villes_Internet",
 * "@name@mastodon.social"); a full https URL is taken as it is. No link (url undefined) for a
 * handle that cannot be one: the schema refuses those.
 */
export function socialProfile(network: string, handle: string): { label: string; url?: string } {
  const label = networkLabels[network as SocialNetwork] ?? network;
  if (/^https:\/\/[^\s"'<>]+$/.test(handle)) return { label, url: handle };
  const name = handle.replace(/^@/, '');
  switch (network) {
    case 'twitter':
    case 'x':
      return /^[A-Za-z0-9_]{1,15}$/.test(name) ? { label, url: `https://x.com/${name}` } : { label };
    case 'bluesky':
      return /^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(name)
        ? { label, url: `https://bsky.app/profile/${name}` }
        : { label };
    case 'instagram':
      return /^[A-Za-z0-9_.]{1,30}$/.test(name)
        ? { label, url: `https://www.instagram.com/${name}` }
        : { label };
    case 'mastodon': {
      const match = /^([A-Za-z0-9_]+)@([A-Za-z0-9.-]+\.[A-Za-z]{2,})$/.exec(name);
      return match ? { label, url: `https://${match[2]}/@${match[1]}` } : { label };
    }
    case 'linkedin': {
      // An organisation's page by default; "in/name" for a person, "company/name" written out.
      const match = /^(?:(company|in|school|showcase)\/)?([A-Za-z0-9_-]{2,100})\/?$/.exec(name);
      return match
        ? { label, url: `https://www.linkedin.com/${match[1] ?? 'company'}/${match[2]}` }
        : { label };
    }
    case 'facebook':
      return /^[A-Za-z0-9.]{5,50}$/.test(name)
        ? { label, url: `https://www.facebook.com/${name}` }
        : { label };
    case 'youtube':
      return /^[A-Za-z0-9_.-]{3,30}$/.test(name)
        ? { label, url: `https://www.youtube.com/@${name}` }
        : { label };
    default:
      return { label };
  }
}
