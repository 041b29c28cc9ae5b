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
  viteFinal(config) {
    // react-query's files start with "use client"; bundling drops the directive, harmlessly in a
    // browser-only Storybook, and one warning per file would bury real ones.
    const build = config.build ?? {};
    const rolldown = build.rolldownOptions ?? {};
    const previous = rolldown.onwarn;
    return {
      ...config,
      build: {
        ...build,
        rolldownOptions: {
          ...rolldown,
          onwarn(warning, warn) {
            if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
            if (previous) previous(warning, warn);
            else warn(warning);
          },
        },
      },
    };
  },
};

export default config;
