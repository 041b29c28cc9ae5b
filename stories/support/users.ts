import type { LockUser } from '../../src/protocol/protocol';

/** A round avatar with initials, inline so stories never reach the network for a picture. */
function initialsAvatar(initials: string, background: string): string {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" fill="${background}"/><text x="20" y="25" font-family="sans-serif" font-size="15" font-weight="600" fill="#ffffff" text-anchor="middle">${initials}</text></svg>`;
  return `data:image/svg+xml,${encodeURIComponent(svg)}`;
}

/** The signed-in user of most stories: the one who sees the overlay. */
export const me: LockUser = { id: 'user-me', name: 'Sam Editor' };

/** Another editor, with an avatar. */
export const alice: LockUser = {
  id: 'user-alice',
  name: 'Alice Martin',
  avatarUrl: initialsAvatar('AM', '#6639ba'),
};

/** A third editor, without an avatar. */
export const bob: LockUser = { id: 'user-bob', name: 'Bob Keller' };

/** A fourth editor, for the line of three. */
export const carol: LockUser = {
  id: 'user-carol',
  name: 'Carol Nguyen',
  avatarUrl: initialsAvatar('CN', '#1a7f37'),
};
