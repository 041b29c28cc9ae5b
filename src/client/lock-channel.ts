/** What a tab tells this browser's other tabs (on the `page-lock` BroadcastChannel). */
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
    const channel = new BroadcastChannel('page-lock');
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
  const through = channel ?? openLockChannel(() => {});
  through?.postMessage(message);
  if (!channel) through?.close();
}
