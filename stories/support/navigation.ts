import { fn } from 'storybook/test';
import { setNavigation } from '../../src/core/navigation';

/**
 * Stand-ins for the page's navigation, installed by the preview, so that a blocked tab seeing
 * the page free, Reload or Go back never reloads or leaves the canvas. Plays assert on them.
 */
export const navigation = {
  reload: fn().mockName('navigation.reload'),
  back: fn().mockName('navigation.back'),
  assign: fn().mockName('navigation.assign'),
};

/** Replaces the library's navigation with {@link navigation}'s spies, cleared for each story. */
export function installStoryNavigation(): () => void {
  navigation.reload.mockClear();
  navigation.back.mockClear();
  navigation.assign.mockClear();
  return setNavigation(navigation);
}
