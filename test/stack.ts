/** The real processes for end-to-end tests are the ones `npm run demo` starts (demo/local-stack.ts). */
export * from '../demo/local-stack';
