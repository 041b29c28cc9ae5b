/** The lock's resource id for a page: `page:1`, `page:2`, … */
export function pageResourceId(pageId: number): string {
  return `page:${pageId}`;
}
