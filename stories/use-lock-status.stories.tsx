import type { Meta, StoryObj } from '@storybook/react-vite';
import type { ReactNode } from 'react';
import { expect, waitFor, within } from 'storybook/test';
import type { LockStatusView } from '../src/react/lock-status-hub';
import { PageLockProvider } from '../src/react/page-lock-provider';
import { useLockStatus } from '../src/react/use-lock-status';
import { type LockWorld, lockWorldLoader, STORY_POLL_INTERVAL } from './support/lock-world';
import { alice, bob, me } from './support/users';

const HOUR = 3_600_000;
const PAGES = [
  { id: 'page:home', title: 'Home' },
  { id: 'page:contact', title: 'Contact' },
  { id: 'page:pricing', title: 'Pricing' },
  { id: 'page:about', title: 'About us' },
];

function badgeText(view: LockStatusView): string {
  switch (view.status) {
    case 'unknown':
      return 'Checking…';
    case 'free':
      return 'Free';
    case 'held':
      return 'Editing here';
    case 'locked':
      return view.isSelf ? 'You, in another tab' : `${view.holder?.name ?? 'Someone'} is editing`;
    case 'forbidden':
      return 'No access';
  }
}

/** The admin's page list: one badge per row, all rows asked about in one batch request. */
function PageList(): ReactNode {
  const statuses = useLockStatus(PAGES.map((page) => page.id));
  return (
    <ul className="story-list" aria-label="Pages">
      {PAGES.map((page) => {
        const view = statuses[page.id] as LockStatusView;
        return (
          <li key={page.id}>
            <span>{page.title}</span>
            <span className="story-badge" data-status={view.status}>
              {badgeText(view)}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

const meta = {
  title: 'Hooks/useLockStatus',
  component: PageList,
  parameters: {
    docs: {
      description: {
        component: `\`useLockStatus(id)\` or \`useLockStatus(ids)\` tells who holds a resource without
acquiring it: for badges in a list of pages. Every id watched below one \`PageLockProvider\` is
asked about in one batch request (\`GET /api/locks?ids=…\`, here answered by MSW), polled at the
provider's \`pollInterval\`. Each view is \`{ status: 'unknown' | 'free' | 'locked' | 'held' |
'forbidden', holder, lock, isSelf }\` (\`forbidden\`: the server's \`authorize\` does not let this user
observe it).`,
      },
    },
  },
  render: (_args, { loaded }) => {
    const world = loaded.world as LockWorld;
    return (
      <PageLockProvider
        adapter={world.adapter}
        clientId={world.clientId}
        pollInterval={STORY_POLL_INTERVAL}
      >
        <PageList />
      </PageLockProvider>
    );
  },
} satisfies Meta<typeof PageList>;

export default meta;
type Story = StoryObj<typeof meta>;

/**
 * Alice edits Home, Bob edits Pricing, and the signed-in user has About us open in another
 * tab. When Alice leaves, Home turns free on the next poll.
 */
export const ListWithBadges: Story = {
  loaders: [
    lockWorldLoader({
      ttl: HOUR,
      async setup(world) {
        await world.tabOf(alice).acquire('page:home');
        await world.tabOf(bob).acquire('page:pricing');
        await world.tabOf(me, 'my-other-tab').acquire('page:about');
      },
    }),
  ],
  async play({ canvasElement, loaded }) {
    const world = loaded.world as LockWorld;
    const list = within(canvasElement).getByRole('list', { name: 'Pages' });
    const badgeOf = (title: string) =>
      within(within(list).getByText(title).closest('li') as HTMLElement).getByText(/./, {
        selector: '.story-badge',
      });
    await waitFor(() => expect(badgeOf('Home')).toHaveTextContent('Alice Martin is editing'), {
      timeout: 5_000,
    });
    await expect(badgeOf('Contact')).toHaveTextContent('Free');
    await expect(badgeOf('Pricing')).toHaveTextContent('Bob Keller is editing');
    await expect(badgeOf('About us')).toHaveTextContent('You, in another tab');

    await world.tabOf(alice).release('page:home');
    await waitFor(() => expect(badgeOf('Home')).toHaveTextContent('Free'), { timeout: 5_000 });
    await expect(badgeOf('Pricing')).toHaveTextContent('Bob Keller is editing');
  },
};

/** The server's `authorize` does not let this user observe Pricing: that row says so, the rest as usual. */
export const ForbiddenRow: Story = {
  loaders: [
    lockWorldLoader({
      ttl: HOUR,
      authorize: (user, resourceId, action) =>
        !(user.id === me.id && resourceId === 'page:pricing' && action === 'observe'),
      async setup(world) {
        await world.tabOf(alice).acquire('page:home');
      },
    }),
  ],
  async play({ canvasElement }) {
    const list = within(canvasElement).getByRole('list', { name: 'Pages' });
    const badgeOf = (title: string) =>
      within(within(list).getByText(title).closest('li') as HTMLElement).getByText(/./, {
        selector: '.story-badge',
      });
    await waitFor(() => expect(badgeOf('Pricing')).toHaveTextContent('No access'), {
      timeout: 5_000,
    });
    await expect(badgeOf('Home')).toHaveTextContent('Alice Martin is editing');
    await expect(badgeOf('Contact')).toHaveTextContent('Free');
  },
};
