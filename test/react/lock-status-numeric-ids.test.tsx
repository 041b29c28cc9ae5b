import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useLockStatus } from '../../src/react/use-lock-status';
import { alice, lockWrapper, setupLockNetwork } from './lock-harness';

const network = setupLockNetwork();

function Badges({ ids }: { ids: string[] }) {
  const views = useLockStatus(ids);
  return (
    <ul>
      {ids.map((id) => (
        <li key={id}>
          {id}: {views[id]?.status}
        </li>
      ))}
    </ul>
  );
}

describe('useLockStatus with ids that look like numbers', () => {
  it('renders the rows in any order without looping (object keys sort such ids first)', async () => {
    await network.adapterFor(alice).acquire('2', { clientId: 'alice-other-tab' });
    render(<Badges ids={['page', '2', '1']} />, {
      wrapper: lockWrapper({ adapter: network.adapterFor(alice), clientId: 'alice-tab' }),
    });
    await screen.findByText('2: locked');
    expect(screen.getByText('1: free')).toBeTruthy();
    expect(screen.getByText('page: free')).toBeTruthy();
  });
});
