/**
 * `page-lock/testing`: the contract suites, runnable against your own adapter or store with the
 * test framework you already use.
 */

export { type AdaptersUnderTest, runLockAdapterContract } from './adapter-contract';
export { type FeedsUnderTest, runLockFeedContract } from './lock-feed-contract';
export {
  type ContractAssertion,
  type ContractTestApi,
  type ContractTestContext,
  runLockStoreContract,
  type StoreUnderTest,
} from './store-contract';
