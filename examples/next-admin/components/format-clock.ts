/** `10:42`: the clock time of an epoch-ms instant, in the viewer's locale. */
export function formatClock(at: number): string {
  return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}
