import type { StorybookConfig } from '@storybook/react-vite';

/**
 * Storybook for page-lock: one story per lock state, set up on a real in-memory lock server,
 * the HTTP stories answered by MSW in the browser (its worker lives in `.storybook/public`).
 * `npm run storybook` to browse, `npx vitest run --project storybook` to run every story as a
 * test in Chromium.
 */
const config: StorybookConfig = {
  framework: '@storybook/react-vite',
  stories: ['../stories/**/*.mdx', '../stories/**/*.stories.tsx'],
  addons: [
    '@storybook/addon-docs',
    '@storybook/addon-a11y',
    '@storybook/addon-vitest',
    'msw-storybook-addon',
  ],
  staticDirs: ['./public'],
  core: { disableTelemetry: true },
};

export default config;
