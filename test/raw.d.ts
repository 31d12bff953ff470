// Vite's `?raw` imports (the tests read docs/api.md as text). A file of its own: a declaration
// file with imports is a module, where a wildcard module declaration would not be global.
declare module '*?raw' {
  const content: string;
  export default content;
}
