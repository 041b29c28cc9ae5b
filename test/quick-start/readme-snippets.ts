/**
 * The README's code, as printed: its sections and the fenced blocks whose first line names the
 * file they are (`// lib/locks.ts`), so tests build and run exactly what a reader copies.
 */

/** The text under `heading` (a whole line, such as `## Quick start`) up to the next heading of its level or above. */
export function readmeSection(readme: string, heading: string): string {
  const level = /^#+/.exec(heading)?.[0].length;
  if (!level) throw new Error(`"${heading}" is not a Markdown heading`);
  const lines = readme.split('\n');
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`README.md has no "${heading}" section`);
  let end = start + 1;
  // A `#` inside a fenced block (a shell comment) is no heading.
  let fenced = false;
  for (; end < lines.length; end++) {
    const line = lines[end] ?? '';
    if (line.startsWith('```')) fenced = !fenced;
    const next = fenced ? undefined : /^(#+) /.exec(line);
    if (next?.[1] && next[1].length <= level) break;
  }
  return lines.slice(start, end).join('\n');
}

/** A fenced block of `markdown`: its language tag and its text (with its first line). */
export interface Snippet {
  language: string;
  code: string;
}

/** Every fenced block of `markdown`, in order. */
export function fencedBlocks(markdown: string): Snippet[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((match) => ({
    language: match[1] ?? '',
    code: match[2] ?? '',
  }));
}

/**
 * The blocks whose first line is a path comment (`// app/pages/[id]/page.tsx`), by that path.
 * A path printed twice is an error: a reader could not tell which one to copy.
 */
export function fileSnippets(markdown: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const { language, code } of fencedBlocks(markdown)) {
    if (language !== 'ts' && language !== 'tsx') continue;
    const file = /^\/\/ ([\w@./[\]-]+\.tsx?)\n/.exec(code)?.[1];
    if (!file) continue;
    if (files.has(file)) throw new Error(`README.md prints ${file} twice`);
    files.set(file, code);
  }
  return files;
}

/** The packages an `npm install` line names (flags dropped), from the ```sh blocks of `markdown`. */
export function installedPackages(markdown: string): { dependencies: string[]; dev: string[] } {
  const dependencies: string[] = [];
  const dev: string[] = [];
  for (const { language, code } of fencedBlocks(markdown)) {
    if (language !== 'sh') continue;
    for (const line of code.split('\n')) {
      const words = line.replace(/#.*/, '').trim().split(/\s+/);
      if (words[0] !== 'npm' || (words[1] !== 'install' && words[1] !== 'i')) continue;
      const flags = words.slice(2).filter((word) => word.startsWith('-'));
      const names = words.slice(2).filter((word) => !word.startsWith('-'));
      const isDev = flags.some((flag) => flag === '--save-dev' || flag === '-D');
      (isDev ? dev : dependencies).push(...names);
    }
  }
  return { dependencies, dev };
}
