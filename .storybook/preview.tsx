import type { Decorator, Preview } from '@storybook/react-vite';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { setupWorker } from 'msw/browser';
import { mswLoader } from 'msw-storybook-addon/csf3';
import { type ReactNode, useState } from 'react';
import { installStoryNavigation } from '../stories/support/navigation';
import '../src/react/overlay/lock-overlay.css';
import './stories.css';

/** Each story gets a QueryClient of its own, so no lock session or cached lease outlives it. */
function FreshQueryClient(props: { children: ReactNode }): ReactNode {
  const [client] = useState(
    () => new QueryClient({ defaultOptions: { queries: { retry: false } } }),
  );
  return <QueryClientProvider client={client}>{props.children}</QueryClientProvider>;
}

const withFreshQueryClient: Decorator = (Story, context) => (
  <FreshQueryClient key={context.id}>
    <Story />
  </FreshQueryClient>
);

const preview: Preview = {
  loaders: [
    // One worker for the page; lock requests go only to the handlers a story installs, and any
    // other request that reaches the network fails the story loudly in the console.
    mswLoader(async () => {
      const worker = setupWorker();
      await worker.start({
        quiet: true,
        onUnhandledRequest: ({ url }, print) => {
          if (new URL(url).pathname.startsWith('/api/')) print.error();
        },
      });
      return worker;
    }),
  ],
  // Nothing reloads or leaves the canvas: Reload, Go back and "the page is free" are spies.
  beforeEach: () => installStoryNavigation(),
  decorators: [withFreshQueryClient],
  parameters: {
    layout: 'padded',
    // Every story is checked with axe-core (contrast included); a violation fails its test.
    a11y: { test: 'error' },
    controls: { expanded: true },
    // Each story in its own iframe on docs pages: a blocking overlay holds focus in its
    // document, and several in one document would fight over it.
    docs: { story: { inline: false, iframeHeight: 460 } },
  },
  tags: ['autodocs'],
};

export default preview;
