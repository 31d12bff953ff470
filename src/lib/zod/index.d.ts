// The shim has zod's own types (index.js says what it leaves out).
export * from 'zod';
export { z, default } from 'zod';
