/** The name of the channel that tells this browser's other tabs about a release or a takeover. */
export const LOCK_CHANNEL_NAME = 'page-lock';

/** What a tab broadcasts to this browser's other tabs. */
export interface LockChannelMessage {
  type: 'acquired' | 'released' | 'taken-over';
  resourceId: string;
}

/** The channel, or null where there is none (then other tabs find out on their next poll). */
export function openLockChannel(
  onMessage: (message: Partial<LockChannelMessage>) => void,
): BroadcastChannel | null {
  if (typeof BroadcastChannel !== 'function') return null;
  try {
    const channel = new BroadcastChannel(LOCK_CHANNEL_NAME);
    channel.onmessage = (event: MessageEvent<Partial<LockChannelMessage> | null>) => {
      if (event.data) onMessage(event.data);
    };
    return channel;
  } catch {
    return null;
  }
}

/** Tell the other tabs, through `channel`, or a short-lived one when it is closed already. */
export function tellOtherTabs(channel: BroadcastChannel | null, message: LockChannelMessage): void {
  if (channel) {
    channel.postMessage(message);
    return;
  }
  const once = openLockChannel(() => {});
  once?.postMessage(message);
  once?.close();
}
