/**
 * Whether this is a development build: `process.env.NODE_ENV` is not `'production'`. Bundlers
 * replace `process.env.NODE_ENV` as written here, so production builds say nothing; where there is
 * no `process` and no bundler replaced it (a browser loading the ESM build as it is), this is
 * quiet too.
 */
export function isDevelopment(): boolean {
  try {
    return process.env.NODE_ENV !== 'production';
  } catch {
    return false;
  }
}
